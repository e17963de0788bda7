"""`dataplane replay --shards N`: a capture replayed in contiguous pieces on Dask workers, joined byte for byte.

pieces.py cuts the input, worker.py replays a piece where Dask runs it, client.py submits and writes in order.
"""

from .client import ShardedRun, check_options, check_shardable, replay_sharded, run_sharded
from .pieces import PIECE_BYTES, PIECE_PACKETS, Limit, Piece, input_pieces, piece_limit
from .worker import PieceResult, ProgramBundle, program_bundle, replay_piece

__all__ = ["PIECE_BYTES", "PIECE_PACKETS", "Limit", "Piece", "PieceResult", "ProgramBundle", "ShardedRun",
           "check_options", "check_shardable", "input_pieces", "piece_limit", "program_bundle", "replay_piece",
           "replay_sharded", "run_sharded"]
