"""Customer-defined JSON formats: which key of a file holds which field.

An API Gateway stage logs whatever JSON the customer wrote in its access log format, e.g.
``{"client": "$context.identity.sourceIp", "when": "$context.requestTimeEpoch"}``. Given that
format (``awsir parse --fields '...'``, as ``aws apigateway get-stage`` prints it under
``accessLogSettings.format``), each field whose ``variable`` appears is read from the key that
holds it; fields whose variable is absent stay empty.
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html
"""

from __future__ import annotations

import re

from awsir.parse.spec import Table

# "key": "$context.x" or "key": $context.x (a number left unquoted); keys may hold escapes.
_PAIR = re.compile(r'"((?:[^"\\]|\\.)+)"\s*:\s*"?(\$[A-Za-z]+(?:\.[A-Za-z0-9_]+)+)"?\s*[,}]')


class TemplateError(ValueError):
    """A format that cannot be used for this table."""


def is_template(text: str) -> bool:
    return text.lstrip().startswith("{")


def template_keys(template: str, table: Table) -> dict[str, str]:
    """{field name: key in the file} for the fields of ``table`` named by ``template``."""
    pairs = _PAIR.findall(template)
    if not pairs:
        raise TemplateError('--fields: no "key": "$context.variable" pairs in this JSON format')
    by_variable = {f.variable.lower(): f.name for f in table.fields if f.variable}
    if not by_variable:
        raise TemplateError("--fields with a JSON format applies to tables with variables")
    keys: dict[str, str] = {}
    for key, variable in pairs:
        name = by_variable.get(variable.lower())
        if name is not None and name not in keys:
            keys[name] = key.replace('\\"', '"').replace("\\\\", "\\")
    if not keys:
        raise TemplateError(
            "--fields: none of this format's variables is a field of the table "
            f"({', '.join(sorted(v for _, v in pairs)[:5])}...)"
        )
    return keys
