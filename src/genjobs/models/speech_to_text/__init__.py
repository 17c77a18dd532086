"""elevenlabs/speech-to-text: offline transcription with word timings, speakers, audio
events and the spoken language, answered in ElevenLabs' format.

Modules, one concern each: ``schema`` (input), ``settings`` (GENJOBS_STT_*), ``languages``
(codes), ``weights`` (finding and joining shipped weights), ``audio`` (streaming decode),
``recognize`` (faster-whisper), ``diarize`` (resemblyzer + clustering), ``events`` (YAMNet),
``assemble`` (ElevenLabs' words list), ``pipeline`` (one transcription, window by window)
and ``model`` (the plugin). Importing the package loads only the schema and the plugin
class; faster-whisper, torch, onnxruntime and PyAV load in the worker's ``setup``.
"""

from genjobs.models.speech_to_text.model import SpeechToTextModel

__all__ = ["SpeechToTextModel"]
