"""Whisper's languages with their ISO 639-1 and ISO 639-3 codes (ElevenLabs reports 639-3)."""

from __future__ import annotations

# Whisper code (mostly ISO 639-1) -> ISO 639-3.
WHISPER_TO_ISO3 = {
    "en": "eng", "zh": "zho", "de": "deu", "es": "spa", "ru": "rus", "ko": "kor", "fr": "fra",
    "ja": "jpn", "pt": "por", "tr": "tur", "pl": "pol", "ca": "cat", "nl": "nld", "ar": "ara",
    "sv": "swe", "it": "ita", "id": "ind", "hi": "hin", "fi": "fin", "vi": "vie", "he": "heb",
    "uk": "ukr", "el": "ell", "ms": "msa", "cs": "ces", "ro": "ron", "da": "dan", "hu": "hun",
    "ta": "tam", "no": "nor", "th": "tha", "ur": "urd", "hr": "hrv", "bg": "bul", "lt": "lit",
    "la": "lat", "mi": "mri", "ml": "mal", "cy": "cym", "sk": "slk", "te": "tel", "fa": "fas",
    "lv": "lav", "bn": "ben", "sr": "srp", "az": "aze", "sl": "slv", "kn": "kan", "et": "est",
    "mk": "mkd", "br": "bre", "eu": "eus", "is": "isl", "hy": "hye", "ne": "nep", "mn": "mon",
    "bs": "bos", "kk": "kaz", "sq": "sqi", "sw": "swa", "gl": "glg", "mr": "mar", "pa": "pan",
    "si": "sin", "km": "khm", "sn": "sna", "yo": "yor", "so": "som", "af": "afr", "oc": "oci",
    "ka": "kat", "be": "bel", "tg": "tgk", "sd": "snd", "gu": "guj", "am": "amh", "yi": "yid",
    "lo": "lao", "uz": "uzb", "fo": "fao", "ht": "hat", "ps": "pus", "tk": "tuk", "nn": "nno",
    "mt": "mlt", "sa": "san", "lb": "ltz", "my": "mya", "bo": "bod", "tl": "tgl", "mg": "mlg",
    "as": "asm", "tt": "tat", "haw": "haw", "ln": "lin", "ha": "hau", "ba": "bak", "jw": "jav",
    "su": "sun", "yue": "yue",
}  # fmt: skip
ISO3_TO_WHISPER = {iso3: code for code, iso3 in WHISPER_TO_ISO3.items()}


def to_whisper(code: str) -> str | None:
    """The Whisper language for an ISO 639-1 or 639-3 code (case-insensitive), or None."""
    code = code.strip().lower()
    if code in WHISPER_TO_ISO3:
        return code
    return ISO3_TO_WHISPER.get(code)


def to_iso3(whisper_code: str) -> str:
    return WHISPER_TO_ISO3.get(whisper_code, whisper_code)
