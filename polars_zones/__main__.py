"""`python -m polars_zones` is the `polars-zones` command."""

from polars_zones.cli import main

main()
