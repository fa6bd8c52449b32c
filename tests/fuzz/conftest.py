"""The fuzz suite prints how many cases it tried and how many failed."""

from fuzz.harness import TALLY


def pytest_terminal_summary(terminalreporter):
    if TALLY.tried:
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(TALLY.codes.items()))
        terminalreporter.write_line(f"fuzz: {TALLY.tried} cases tried, {TALLY.failed} failed "
                                    f"(exit codes {codes})")
        for failure in TALLY.failures[:5]:
            terminalreporter.write_line(f"  failed: {failure[:500]}")
