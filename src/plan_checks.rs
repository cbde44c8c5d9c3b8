//! Checks a lazy plan makes on its own data (the visits plan, `polars_zones._visits`): where a
//! condition holds, the query fails with the plan's message. Polars has no expression that
//! raises; a strict cast of the message to a number did, with the message buried in a
//! conversion error among the plan's internals, and as an `InvalidOperationError`.

use polars::prelude::*;
use pyo3_polars::derive::polars_expr;
use serde::Deserialize;

#[derive(Deserialize)]
struct FailKwargs {
    message: String,
}

/// Zeros (UInt32, to add to a count) as long as the Boolean input, or a `ComputeError` with
/// the message where any of it is true (nulls are not).
#[polars_expr(output_type=UInt32)]
fn fail_where(inputs: &[Series], kwargs: FailKwargs) -> PolarsResult<Series> {
    let condition = inputs[0].bool()?;
    polars_ensure!(!condition.any(), ComputeError: "{}", kwargs.message);
    Ok(UInt32Chunked::full(condition.name().clone(), 0, condition.len()).into_series())
}
