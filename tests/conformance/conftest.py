"""Print the corpus figures at the end of a test run, whether or not their tests failed."""

from __future__ import annotations

from .corpus import FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    terminalreporter.section("p4c corpus conformance")
    for figure, (good, total, internal, slowest) in FIGURES.items():
        terminalreporter.write_line(f"{figure}: {good} of {total}; internal errors: {internal}; "
                                    f"slowest: {slowest.name} ({slowest.seconds:.1f} s)")
