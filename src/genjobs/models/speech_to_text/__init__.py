"""elevenlabs/speech-to-text. Only the schema and the model class are imported here;
faster-whisper, resemblyzer and onnxruntime load in the worker's ``setup``."""

from genjobs.models.speech_to_text.model import SpeechToTextModel

__all__ = ["SpeechToTextModel"]
