"""The hostile cases (issue 29): what a hostile but legitimate user tries, each reproduced before it was fixed.

One module per theme: files that must not be lost (``test_files``), processes that must not outlive or ignore
their command (``test_processes``), numbers, ranges and names read the same everywhere (``test_numbers``), sizes,
long names and odd paths (``test_sizes``). docs/reliability.md lists each case and the test that tries it.
"""
