"""What the JSON API and the pages share: the one translation of errors to
HTTP, the refusal of input no column can hold, the request body limit and
the runtime protocol."""

from starlette.convertors import IntegerConvertor, register_url_convertor


class BoundedIntegerConvertor(IntegerConvertor):
    """Starlette's `{name:int}`, except for a number too long for `int`
    (over 4,300 digits), which raised a ValueError, a 500, while the route
    was being matched. Past 20 digits the value becomes one that no column
    holds, which the parameter's own range (`kernel.validation.Id`) refuses
    with a 400."""

    def convert(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        return int(digits) if len(digits) <= 20 else 10**20


# Registered here because every module with routes imports this package
# (through `api.deps` or `web.security`) before it declares a path, and a
# path's convertor is looked up when the path is declared.
register_url_convertor("int", BoundedIntegerConvertor())
