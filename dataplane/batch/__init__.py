"""The columnar batch engine: a whole pcap through a stateless program at once (see program.py)."""

from .engine import BatchEngine, BatchResult, batch_form, output_times, why_not_batch
from .packets import Batch, batch_from_records, read_classic_pcap
from .program import Unsupported

__all__ = ["Batch", "BatchEngine", "BatchResult", "Unsupported", "batch_form", "batch_from_records",
           "output_times", "read_classic_pcap", "why_not_batch"]
