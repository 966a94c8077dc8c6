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

# Common function words of Latin-script languages OncoQA does not answer in, so a Spanish or
# French question is told which languages it can use instead of getting English quotes. Words
# that are also English ("a", "me", "he", "die", "son") are left out.
_OTHER_LANGUAGE_TEXT = {
    "es": "el la los las del que qué es por para con una unos cómo cuál cuándo cuánto puedo "
          "tengo mi mis después antes durante pero muy también está están hay quimioterapia",
    "fr": "le la les des du est une pour avec je mon ma mes dans que qui quoi comment quand "
          "puis-je après avant pendant mais très aussi sont ont chimiothérapie",
    "de": "der die das und ist ich mein meine nicht mit wie was wann kann nach vor während aber "
          "sehr auch sind haben eine einen dem den chemotherapie",
    "pt": "o os as do da dos das que é por para com uma como quando posso tenho meu minha "
          "depois antes durante mas muito também são não quimioterapia",
    "it": "il lo la gli le del della che è per con una come quando posso ho mio mia dopo prima "
          "durante ma molto anche sono non chemioterapia",
}
OTHER_LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    code: frozenset(words.split()) - EN_STOP_WORDS for code, words in _OTHER_LANGUAGE_TEXT.items()
}

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
