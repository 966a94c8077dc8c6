"""English stop words and the Snowball stemmer, one source for keyword retrieval and support."""

from __future__ import annotations

import threading
from typing import Any

# Function words, question words and request filler ("please tell me"): words that say
# nothing about the topic. Changing this list changes BM25 scores, so rerun the eval.
_EN_STOP_TEXT = """a an the and or but if then than so as of to in on at by for with
from into about over under is are was were be been being am do does did done have has had having
it its this that these those there here what which who whom whose how when where why can could
should would will shall may might must i me my mine we us our you your he him his she her they
them their not no nor any all some such only own same too very just also more most other each
both s t get got please tell know"""
EN_STOP_WORDS = frozenset(_EN_STOP_TEXT.split())

_local = threading.local()


def english_stemmer() -> Any:  # snowballstemmer ships no type hints
    """The Snowball English stemmer of the calling thread, made on first use.

    One per thread because a stemmer keeps the word it is working on in itself, so two threads
    sharing one could swap results.
    """
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import snowballstemmer

        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer
