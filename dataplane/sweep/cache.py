"""The results cache of a sweep: one small JSON file per finished point, named by the point's key (a hash of
its full input and dataplane's version), in a directory beside the table (results.csv.cache/).

Written as each point finishes, so that an interrupted sweep keeps what it did and `--resume` runs only the
rest. A file that cannot be read back (cut short, edited) is ignored and its point runs again."""

from __future__ import annotations

import json
import os

from .point import PointResult

FORMAT = "dataplane-sweep-point/1"


def directory_for(out: str) -> str:
    return out + ".cache"


class Cache:
    def __init__(self, directory: str):
        self.directory = directory

    def _file(self, key: str) -> str:
        return os.path.join(self.directory, key + ".json")

    def get(self, key: str, index: int, metrics: int) -> PointResult | None:
        """The cached result of the point with this key (None when there is none, or it is unreadable)."""
        try:
            with open(self._file(key), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
            return None
        values, error = data.get("values"), data.get("error")
        if not isinstance(values, list) or len(values) != metrics or not (error is None or isinstance(error, str)):
            return None
        return PointResult(index, key, tuple(values), error)

    def put(self, result: PointResult) -> None:
        os.makedirs(self.directory, exist_ok=True)
        path = self._file(result.key)
        temporary = path + ".partial"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump({"format": FORMAT, "key": result.key, "values": list(result.values), "error": result.error},
                      f)
        os.replace(temporary, path)
