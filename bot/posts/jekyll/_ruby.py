"""Values as Jekyll's Ruby writes them as text.

Front matter is YAML, and Jekyll turns its values into text with Ruby's `to_s`: `true` becomes
"true" (Python would say "True"), `nil` becomes "". Category names, slugs and permalinks built
from such values must match what Jekyll publishes, so every rule here converts through this one
function.
"""

from __future__ import annotations

from datetime import date, datetime


def ruby_str(value: object) -> str:
    """`value.to_s` as Ruby writes it, for the scalar types YAML produces."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text} {value.strftime('%z')}" if value.tzinfo else f"{text} +0000"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
