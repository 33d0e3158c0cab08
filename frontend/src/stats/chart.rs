//! The small live charts of the statistics panel, drawn by the app as inline SVG: the points of
//! a polyline for the last readings (no JavaScript charting library).

use super::HISTORY_SECONDS;

/// The chart's drawing box: one unit per second across, `CHART_HEIGHT` units up.
pub const CHART_WIDTH: u32 = 60;
pub const CHART_HEIGHT: u32 = 20;

/// `"x,y x,y ..."` for `values` (oldest first, at most [`HISTORY_SECONDS`], right-aligned so
/// the newest is at the right edge), scaled so the largest value touches the top; seconds
/// without a value are left out. Empty when no second has a value.
pub fn chart_points(values: &[Option<u32>]) -> String {
    let values = &values[values.len().saturating_sub(HISTORY_SECONDS)..];
    let top = values.iter().flatten().copied().max().unwrap_or(0).max(1);
    let first_x = HISTORY_SECONDS - values.len();
    values
        .iter()
        .enumerate()
        .filter_map(|(index, value)| {
            let value = (*value)?;
            let x = u32::try_from(first_x + index).unwrap_or(CHART_WIDTH);
            let y =
                CHART_HEIGHT - u32::try_from(u64::from(value) * u64::from(CHART_HEIGHT) / u64::from(top)).unwrap_or(0);
            Some(format!("{x},{y}"))
        })
        .collect::<Vec<_>>()
        .join(" ")
}
