"""Reports: documents drawn as tables, JSON, CSV, Markdown or HTML (accessgov.reports.rendering).

Only what a command's options need at start-up lives here, so that a command that prints no
document loads no drawing.
"""

# The formats every list and record offers (reports and documents offer Markdown and HTML too).
LIST_FORMATS = ("table", "json", "csv")
