"""What the user reads: the run folder (written and read in one module), the text the commands print, figures
and the HTML report."""
