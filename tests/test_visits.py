"""`visits` and `time_in_zone` against a brute-force reference that applies the README's
rules 1-5 literally, one vessel and one position at a time; hand-made tracks for each rule;
engines, time types and errors."""

from __future__ import annotations

import datetime as dt
import itertools
import os

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import polars_zones as pz

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
ENGINES = ("eager", "in-memory", "streaming")


# ---- the reference ---------------------------------------------------------------------------


def reference(rows, *, min_points=1, max_gap=None, min_duration=None):
    """Visits of `rows` ((vessel, zone, time) in input order) by rules 1-5, literally:
    [(vessel, zone, enter, exit, duration, points)] in output order."""
    # Rule 1: drop null times; order by (vessel, time), ties in input order.
    tracks: dict = {}
    for i, (vessel, zone, time) in enumerate(rows):
        if time is not None:
            tracks.setdefault(vessel, []).append((time, i, zone))
    out = []
    for vessel in sorted(tracks, key=lambda v: (v is not None, v)):
        positions = sorted(tracks[vessel], key=lambda p: (p[0], p[1]))
        # Rules 2 and 3: runs of one zone value (null included), cut at every gap break.
        runs = []  # [zone, enter, exit, points, gap break before the run]
        for k, (time, _, zone) in enumerate(positions):
            gap = k > 0 and max_gap is not None and time - positions[k - 1][0] > max_gap
            if k == 0 or gap or zone != runs[-1][0]:
                runs.append([zone, time, time, 1, gap])
            else:
                runs[-1][2] = time
                runs[-1][3] += 1
        # Rule 4: drop short runs, then join each kept run to the kept run before it when the
        # zone is the same and no run after that one, up to this one, starts with a gap break.
        joined, last = [], None
        for j, (zone, enter, exit_, points, _) in enumerate(runs):
            if points < min_points or (min_duration is not None and exit_ - enter < min_duration):
                continue
            if last is not None and runs[last][0] == zone and not any(runs[m][4] for m in range(last + 1, j + 1)):
                joined[-1][2] = exit_
                joined[-1][3] += points
            else:
                joined.append([zone, enter, exit_, points])
            last = j
        # Rule 5: the non-null runs are the visits.
        out += [(vessel, z, a, b, b - a, n) for z, a, b, n in joined if z is not None]
    return out


def frame(rows, time_dtype=pl.Int64):
    return pl.DataFrame(
        {"vessel": [r[0] for r in rows], "zone": [r[1] for r in rows], "time": [r[2] for r in rows]},
        schema={"vessel": pl.Int64, "zone": pl.String, "time": time_dtype},
    )


def run(df, engine="eager", function=pz.visits, **kwargs):
    if engine == "eager":
        return function(df, **kwargs)
    return function(df.lazy(), **kwargs).collect(engine=engine)


# ---- property test: random tracks against the reference --------------------------------------

track_rows = st.lists(
    st.tuples(
        st.integers(0, 2) | st.none(),  # vessel (null is a vessel too)
        st.sampled_from(["A", "B", "C", None]),  # zone; null is outside every zone
        st.integers(0, 30) | st.none(),  # time: small range, so ties and gaps near max_gap are common
    ),
    max_size=60,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    track_rows,
    st.integers(1, 4),
    st.none() | st.integers(0, 6),
    st.none() | st.integers(0, 6),
)
def test_random_tracks_match_the_reference(rows, min_points, max_gap, min_duration):
    df = frame(rows)
    expected = reference(rows, min_points=min_points, max_gap=max_gap, min_duration=min_duration)
    kwargs = dict(by="vessel", min_points=min_points, max_gap=max_gap, min_duration=min_duration)
    for engine in ENGINES:
        assert run(df, engine, **kwargs).rows() == expected, engine


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(track_rows, st.integers(1, 3), st.none() | st.integers(0, 4), st.none() | st.integers(0, 4))
def test_time_in_zone_sums_the_visits(rows, min_points, max_gap, min_duration):
    df = frame(rows)
    kwargs = dict(min_points=min_points, max_gap=max_gap, min_duration=min_duration)
    totals: dict = {}
    for vessel, zone, _, _, duration, points in reference(rows, **kwargs):
        t = totals.setdefault((vessel, zone), [0, 0, 0])
        t[0] += duration
        t[1] += 1
        t[2] += points
    expected = [(v, z, *totals[v, z]) for v, z in sorted(totals, key=lambda k: (k[0] is not None, k[0], k[1]))]
    for engine in ENGINES:
        assert run(df, engine, pz.time_in_zone, by="vessel", **kwargs).rows() == expected, engine


def test_every_option_combination_on_a_jittery_track():
    rows = [(7, z, t) for t, z in enumerate("AAABAA-A-CCCAAA--BBB")]
    rows = [(v, None if z == "-" else z, t * 2 if t < 10 else t * 2 + 9) for v, z, t in rows]
    rows += [(8, "A", None), (8, "B", 5), (8, "B", 5), (8, None, 5)]
    df = frame(rows)
    for min_points, max_gap, min_duration in itertools.product([1, 2, 3, 4], [None, 2, 8, 10, 11], [None, 0, 2, 3, 5]):
        kwargs = dict(min_points=min_points, max_gap=max_gap, min_duration=min_duration)
        assert pz.visits(df, by="vessel", **kwargs).rows() == reference(rows, **kwargs), kwargs


# ---- hand-made tracks, one per rule ----------------------------------------------------------


def one_vessel(zones: str, times=None):
    """A track of one vessel: one character per position, '-' for no zone."""
    times = list(range(len(zones))) if times is None else times
    return frame([(1, None if z == "-" else z, t) for z, t in zip(zones, times)])


def visits_of(df, **kwargs):
    return [
        (r["zone"], r["enter"], r["exit"], r["points"])
        for r in pz.visits(df, by="vessel", **kwargs).iter_rows(named=True)
    ]


def test_rule_2_a_zone_change_or_no_zone_ends_a_visit():
    assert visits_of(one_vessel("AAABAA")) == [("A", 0, 2, 3), ("B", 3, 3, 1), ("A", 4, 5, 2)]
    assert visits_of(one_vessel("AA--AA")) == [("A", 0, 1, 2), ("A", 4, 5, 2)]


def test_rule_4_a_jittery_fix_is_dropped_and_the_visit_joined():
    # The examples: one visit to A with 5 points; the B fix is not counted.
    assert visits_of(one_vessel("AAABAA"), min_points=2) == [("A", 0, 5, 5)]
    assert visits_of(one_vessel("AAA-AA"), min_points=2) == [("A", 0, 5, 5)]
    # A run that is long enough stays, and separates.
    assert visits_of(one_vessel("AAABBAA"), min_points=2) == [("A", 0, 2, 3), ("B", 3, 4, 2), ("A", 5, 6, 2)]
    # min_duration: a run shorter in time than that is jitter too (BB spans 1).
    assert visits_of(one_vessel("AAABBAAA"), min_duration=2) == [("A", 0, 7, 6)]
    # Runs are judged before joining: the two A runs of 2 each are dropped, even though
    # together they would have 4 points.
    assert visits_of(one_vessel("AABAA"), min_points=3) == []


def test_rule_3_a_dark_gap_ends_a_visit():
    times = [0, 1, 2, 50, 51, 52]
    assert visits_of(one_vessel("AAAAAA", times)) == [("A", 0, 52, 6)]
    assert visits_of(one_vessel("AAAAAA", times), max_gap=10) == [("A", 0, 2, 3), ("A", 50, 52, 3)]
    # Exactly max_gap apart is not a gap.
    assert visits_of(one_vessel("AAAAAA", times), max_gap=48) == [("A", 0, 52, 6)]
    # A gap between two runs that jitter separates: they do not join across it.
    times = [0, 1, 2, 3, 40, 41, 42]
    assert visits_of(one_vessel("AAAB-AA", times), min_points=2, max_gap=10) == [("A", 0, 2, 3), ("A", 41, 42, 2)]
    # ... even when the gap is inside the dropped runs.
    times = [0, 1, 2, 3, 40, 41, 42]
    assert visits_of(one_vessel("AAABBAA", times), min_points=3, max_gap=10) == [("A", 0, 2, 3)]


def test_a_vessel_with_one_position():
    assert visits_of(one_vessel("A")) == [("A", 0, 0, 1)]
    assert visits_of(one_vessel("A"), min_points=2) == []
    assert visits_of(one_vessel("A"), min_duration=1) == []
    assert visits_of(one_vessel("A"), min_duration=0) == [("A", 0, 0, 1)]


def test_rule_1_null_times_are_ignored_and_ties_keep_input_order():
    df = frame([(1, "A", 3), (1, "B", None), (1, "B", 1), (1, "A", 1), (1, "A", 2)])
    # Ordered: (B,1) (A,1) (A,2) (A,3); the null-time B row is ignored.
    assert visits_of(df) == [("B", 1, 1, 1), ("A", 1, 3, 3)]
    # Duplicate timestamps: the same fix twice counts twice.
    assert visits_of(one_vessel("AAA", [5, 5, 5])) == [("A", 5, 5, 3)]


def test_a_zone_re_entered_after_leaving_is_a_new_visit():
    out = pz.visits(one_vessel("AAA---BBB---AAA"), by="vessel")
    assert out.select("zone", "enter", "exit", "duration", "points").rows() == [
        ("A", 0, 2, 2, 3),
        ("B", 6, 8, 2, 3),
        ("A", 12, 14, 2, 3),
    ]
    totals = pz.time_in_zone(one_vessel("AAA---BBB---AAA"), by="vessel")
    assert totals.rows() == [(1, "A", 4, 2, 6), (1, "B", 2, 1, 3)]


def test_vessels_are_separate_and_output_is_sorted():
    df = frame([(2, "A", 0), (1, "A", 5), (2, "A", 1), (1, "A", 6), (None, "B", 3)])
    out = pz.visits(df, by="vessel")
    assert out.rows() == [(None, "B", 3, 3, 0, 1), (1, "A", 5, 6, 1, 2), (2, "A", 0, 1, 1, 2)]
    # Without `by`, all rows are one vessel.
    assert pz.visits(df.drop("vessel")).select("zone", "enter", "exit", "points").rows() == [
        ("A", 0, 1, 2),
        ("B", 3, 3, 1),
        ("A", 5, 6, 2),
    ]
    # Several `by` columns.
    df2 = df.with_columns(fleet=pl.lit("x"))
    assert pz.visits(df2, by=["fleet", "vessel"]).drop("fleet").rows() == out.rows()


# ---- kinds of frames, engines, time types ----------------------------------------------------


def test_lazy_in_lazy_out_and_the_namespaces():
    df = one_vessel("AAB")
    assert isinstance(pz.visits(df.lazy(), by="vessel"), pl.LazyFrame)
    assert isinstance(pz.visits(df, by="vessel"), pl.DataFrame)
    assert df.lazy().zones.visits(by="vessel").collect().equals(pz.visits(df, by="vessel"))
    assert df.zones.visits(by="vessel").equals(pz.visits(df, by="vessel"))
    assert df.zones.time_in_zone(by="vessel").equals(pz.time_in_zone(df, by="vessel"))
    assert df.lazy().zones.time_in_zone(by="vessel").collect().equals(pz.time_in_zone(df, by="vessel"))
    with pytest.raises(TypeError, match="DataFrame or LazyFrame"):
        pz.visits(df.to_dict(), by="vessel")


def test_datetime_with_time_zone_date_and_epoch_integers():
    base = dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.timezone.utc)
    hours = [0, 1, 2, 9, 10, 11]
    zones = ["A", "A", "B", "A", "A", "A"]
    times = [base + dt.timedelta(hours=h) for h in hours]
    df = pl.DataFrame({"mmsi": [1] * 6, "zone": zones, "ts": times}).with_columns(
        pl.col("ts").dt.convert_time_zone("Europe/Paris")  # crosses the DST change
    )
    out = pz.visits(df, by="mmsi", time="ts", max_gap="6h", min_points=2)
    assert out.schema["enter"] == pl.Datetime("us", "Europe/Paris")
    assert out.schema["duration"] == pl.Duration("us")
    assert out.select("zone", "points").rows() == [("A", 2), ("A", 3)]
    assert out["duration"].to_list() == [dt.timedelta(hours=1), dt.timedelta(hours=2)]
    for unit in ("ns", "ms"):
        same = pz.visits(
            df.with_columns(pl.col("ts").dt.cast_time_unit(unit)),
            by="mmsi",
            time="ts",
            max_gap=dt.timedelta(hours=6),
            min_points=2,
        )
        assert same.select("zone", "points", pl.col("duration").dt.total_seconds()).rows() == [
            ("A", 2, 3600),
            ("A", 3, 7200),
        ]

    days = pl.DataFrame(
        {"mmsi": [1] * 4, "zone": ["A", "A", "A", "A"], "day": [dt.date(2024, 1, d) for d in (1, 2, 9, 10)]}
    )
    out = pz.visits(days, by="mmsi", time="day", max_gap="2d")
    assert out.select("enter", "exit", "points").rows() == [
        (dt.date(2024, 1, 1), dt.date(2024, 1, 2), 2),
        (dt.date(2024, 1, 9), dt.date(2024, 1, 10), 2),
    ]
    assert out["duration"].to_list() == [dt.timedelta(days=1)] * 2

    epoch = pl.DataFrame({"mmsi": [1] * 6, "zone": zones, "t": [1_700_000_000 + 3600 * h for h in hours]})
    out = pz.visits(epoch, by="mmsi", time="t", max_gap=6 * 3600, min_points=2, min_duration=0)
    assert out.select("zone", "duration", "points").rows() == [("A", 3600, 2), ("A", 7200, 3)]
    floats = epoch.with_columns(pl.col("t").cast(pl.Float64) / 3600)
    assert pz.visits(floats, by="mmsi", time="t", max_gap=6.0, min_points=2)["points"].to_list() == [2, 3]


def test_zone_dtypes_enum_categorical_and_indexes(bundled_zones):
    df = pl.DataFrame({"lat": [51.95, 51.95, 0.0, 51.95], "lon": [4.05, 4.05, -30.0, 4.05], "t": [0, 1, 2, 3]})
    tagged = df.with_columns(zone=pl.col("lat").zones.tag("lon", polygons=bundled_zones))
    out = pz.visits(tagged, time="t")
    assert out.schema["zone"] == tagged.schema["zone"]
    assert out.select(pl.col("zone").cast(pl.String), "points").rows() == [("NLD", 2), ("NLD", 1)]
    for dtype in (pl.Categorical, pl.String):
        assert pz.visits(tagged.with_columns(pl.col("zone").cast(pl.String).cast(dtype)), time="t")[
            "points"
        ].to_list() == [2, 1]
    codes = tagged.with_columns(pl.col("zone").to_physical())
    assert pz.visits(codes, time="t")["points"].to_list() == [2, 1]


def test_the_lazy_plan_has_no_python_and_serializes():
    lf = one_vessel("AAABAA").lazy().zones.visits(by="vessel", min_points=2, max_gap=3)
    assert "python" not in lf.explain().lower()
    again = pl.LazyFrame.deserialize(__import__("io").BytesIO(lf.serialize()))
    assert again.collect().equals(lf.collect())


# ---- errors -------------------------------------------------------------------------------------


def test_missing_or_wrongly_typed_columns_are_named():
    df = pl.DataFrame({"mmsi": [1], "zone": ["A"], "time": ["2024-01-01"], "t": [1]})
    with pytest.raises(
        pl.exceptions.ColumnNotFoundError, match="time column 'timestamp' not found.*mmsi, zone, time, t"
    ):
        pz.visits(df, time="timestamp")
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="zone column 'eez'"):
        pz.visits(df, zone="eez", time="t")
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="by column 'ship'"):
        pz.visits(df.lazy(), time="t", by=["mmsi", "ship"])
    with pytest.raises(
        pl.exceptions.SchemaError, match="time column 'time' has type String; expected Datetime, Date or numbers"
    ):
        pz.visits(df, by="mmsi")
    listed = df.with_columns(zone=pl.lit(["A"]))
    with pytest.raises(pl.exceptions.SchemaError, match="zone column 'zone' has type List.*use tag, not tag_all"):
        pz.visits(listed, time="t")
    with pytest.raises(ValueError, match="clash with an output column"):
        pz.visits(df.rename({"mmsi": "points"}), time="t", by="points")
    with pytest.raises(ValueError, match="must be different columns"):
        pz.visits(df, time="t", by="zone")
    with pytest.raises(TypeError, match="by must be a column name .*not expressions"):
        pz.visits(df, time="t", by=pl.col("mmsi"))
    with pytest.raises(TypeError, match="visits: time must be a column name"):
        pz.visits(df, time=pl.col("t"))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not a pandas.DataFrame; convert it with pl.from_pandas"):
        pz.visits(df.to_pandas(), time="t")  # type: ignore[type-var]


def test_bad_thresholds_are_clear():
    df = pl.DataFrame({"mmsi": [1], "zone": ["A"], "ts": [dt.datetime(2024, 1, 1)], "t": [1]})
    with pytest.raises(TypeError, match="max_gap must be a duration .* time column 'ts'"):
        pz.visits(df, time="ts", max_gap=3600)
    with pytest.raises(ValueError, match="max_gap: cannot read '6 hours'"):
        pz.visits(df, time="ts", max_gap="6 hours")
    with pytest.raises(TypeError, match="min_duration must be a number in the units of time column 't'"):
        pz.visits(df, time="t", min_duration="10m")
    with pytest.raises(ValueError, match="must not be negative"):
        pz.visits(df, time="t", max_gap=-1)
    with pytest.raises(ValueError, match="min_points must be an integer >= 1"):
        pz.visits(df, time="t", min_points=0)


def test_parse_duration():
    assert pz.parse_duration("6h") == dt.timedelta(hours=6)
    assert pz.parse_duration("10m") == dt.timedelta(minutes=10)
    assert pz.parse_duration("30s") == dt.timedelta(seconds=30)
    assert pz.parse_duration("2d") == dt.timedelta(days=2)
    assert pz.parse_duration("1h30m") == dt.timedelta(minutes=90)
    assert pz.parse_duration("1.5h") == dt.timedelta(minutes=90)
    assert pz.parse_duration("1w") == dt.timedelta(days=7)
    assert pz.parse_duration("500ms") == dt.timedelta(milliseconds=500)
    for bad in ("", "6", "h", "6x", "6 hours", "-1h"):
        with pytest.raises(ValueError, match="cannot read"):
            pz.parse_duration(bad)
    # Past what a timedelta holds: a ValueError naming the text, not a bare OverflowError.
    assert pz.parse_duration("999999999d") == dt.timedelta(days=999_999_999)
    for huge in ("1000000000d", "99999999999999999w", "999999999d86400s"):
        with pytest.raises(ValueError, match=f"duration '{huge}' is too long: at most 999,999,999 days"):
            pz.parse_duration(huge)


# ---- the sort: one Int128 key, or one column at a time -------------------------------------------


@settings(max_examples=EXAMPLES // 3, deadline=None)
@given(track_rows, st.integers(1, 3), st.none() | st.integers(0, 4))
def test_every_sort_path_gives_the_same_visits(rows, min_points, max_gap):
    """Integer vessels take the Int128 key; string, Enum and two-column vessels and float
    times the column-at-a-time sorts: all give the reference's answer."""
    df = frame(rows)
    expected = reference(rows, min_points=min_points, max_gap=max_gap)
    kwargs = dict(min_points=min_points, max_gap=max_gap)
    names = pl.Enum(["2", "1", "0"])  # codes in another order than the values
    variants = {
        "int": (df, "vessel"),
        "string": (df.with_columns(pl.col("vessel").cast(pl.String)), "vessel"),
        "enum": (df.with_columns(pl.col("vessel").cast(pl.String).cast(names)), "vessel"),
        "two columns": (df.with_columns(fleet=pl.lit("x")), ["fleet", "vessel"]),
        "float time": (df.with_columns(pl.col("time").cast(pl.Float64)), "vessel"),
        "uint8 vessel, int16 time": (
            df.with_columns(pl.col("vessel").cast(pl.UInt8), pl.col("time").cast(pl.Int16)),
            "vessel",
        ),
    }

    def key(r):
        return (r[0] is not None, r[0] if r[0] is not None else 0, r[2])

    for name, (variant, by) in variants.items():
        got = pz.visits(variant, by=by, **kwargs)
        got = got.drop("fleet") if "fleet" in got.columns else got
        got = got.with_columns(
            pl.col("vessel").cast(pl.String).cast(pl.Int64), pl.col("enter", "exit", "duration").cast(pl.Int64)
        )
        # Enum vessels sort by code order; compare per vessel, in enter order.
        assert sorted(got.rows(), key=key) == sorted(expected, key=key), name


def test_extreme_vessel_ids_and_times():
    lo, hi = -(2**63), 2**63 - 1
    rows = [(lo, "A", 5), (hi, "A", 2), (lo, "A", 3), (hi, "B", 1), (lo + 1, "B", 0)]
    assert pz.visits(frame(rows), by="vessel").rows() == reference(rows)
    wide = [
        (lo + 1, "A", lo),
        (hi, "A", hi),
        (None, "A", 0),
        (None, "B", lo),
        (0, "A", 1),
        (lo + 1, "B", hi),
        (None, "A", hi),
    ]
    for engine in ENGINES:
        assert run(frame(wide), engine, by="vessel").rows() == reference(wide)
    unsigned = pl.DataFrame(
        {"vessel": [2**64 - 2, 0, 2**64 - 2, None], "zone": ["A", "A", "B", "A"], "time": [2**64 - 1, 0, 0, 5]},
        schema={"vessel": pl.UInt64, "zone": pl.String, "time": pl.UInt64},
    )
    assert pz.visits(unsigned, by="vessel").rows() == reference(list(zip(*unsigned.to_dict(as_series=False).values())))
    # The null vessel shares its place in the sort key with the lowest Int64 (the highest
    # UInt64): with both present the query stops rather than mix them up.
    for df in (
        frame(wide + [(lo, "A", 3)]),
        unsigned.vstack(unsigned.head(1).with_columns(vessel=pl.lit(2**64 - 1, pl.UInt64))),
    ):
        for engine in ENGINES:
            with pytest.raises(
                pl.exceptions.ComputeError,
                match="visits: the vessel column 'vessel' holds both nulls and .* which share",
            ):
                run(df, engine, by="vessel")
    # Either alone is fine; so is a String vessel column.
    assert run(frame(wide + [(lo, "A", 3)]).drop_nulls("vessel"), "streaming", by="vessel").height > 0
    as_text = frame(wide + [(lo, "A", 3)]).with_columns(pl.col("vessel").cast(pl.String))
    assert run(as_text, "in-memory", by="vessel").height == len(reference(wide + [(lo, "A", 3)]))


def test_the_sorts_stay_single_column():
    """Polars fuses consecutive sorts into one multi-column sort, several times slower than
    either path here: the plan must keep them apart."""
    lf = frame([(1, "A", 0)]).with_columns(fleet=pl.lit("x")).lazy()
    plan = pz.visits(lf, by=["fleet", "vessel"]).explain()
    for column in ("time", "vessel", "fleet"):
        assert f'SORT BY [maintain_order: true] [col("{column}")]' in plan


def test_any_column_names_work_or_are_refused_clearly():
    base = pl.DataFrame({"mmsi": [1] * 5, "t": [0, 10, 20, 30, 40], "zone": ["a", "a", None, "b", "b"]})
    expected = [(1, "a", 0, 10, 10, 2), (1, "b", 30, 40, 10, 2)]
    assert pz.visits(base, by="mmsi", time="t").rows() == expected
    # Names the plan's helper columns once had gave wrong visits without an error.
    # The time column is not in the output, so it may be called like any output column.
    names = [("t", "_prev_0"), ("zone", "_segment"), ("mmsi", "_prev_0"), ("mmsi", "_i")]
    names += [("t", output) for output in ("enter", "exit", "duration", "points")]
    for column, name in names:
        renamed = base.rename({column: name})
        roles = {"by": "mmsi", "time": "t", "zone": "zone"}
        roles = {role: name if value == column else value for role, value in roles.items()}
        assert pz.visits(renamed, **roles).rows() == expected, (column, name)
    with pytest.raises(ValueError, match="column 'exit' would clash with an output column"):
        pz.visits(base.rename({"mmsi": "exit"}), by="exit", time="t")
    with pytest.raises(ValueError, match="column '__visits_t' starts with '__visits_'"):
        pz.visits(base.rename({"t": "__visits_t"}), by="mmsi", time="__visits_t")


def test_nan_times_are_ignored_like_nulls():
    df = pl.DataFrame({"time": [0.0, float("nan"), 2.0, None], "zone": ["a", "a", "a", "a"]})
    assert pz.visits(df, max_gap=1).rows() == [("a", 0.0, 0.0, 0.0, 1), ("a", 2.0, 2.0, 0.0, 1)]
    assert pz.visits(df).rows() == [("a", 0.0, 2.0, 2.0, 2)]


def test_numpy_scalars_are_numbers():
    np = pytest.importorskip("numpy")
    df = pl.DataFrame({"time": [0, 1, 5], "zone": ["a", "a", "a"]})
    assert pz.visits(df, min_points=np.int64(2)).rows() == pz.visits(df, min_points=2).rows()
    assert pz.visits(df, max_gap=np.int64(2)).rows() == pz.visits(df, max_gap=2).rows()
    assert pz.visits(df, min_duration=np.float32(0.5)).rows() == pz.visits(df, min_duration=0.5).rows()
    for flag in (True, np.bool_(True)):
        with pytest.raises(ValueError, match="min_points must be an integer >= 1"):
            pz.visits(df, min_points=flag)
        with pytest.raises(TypeError, match="max_gap must be a number"):
            pz.visits(df, max_gap=flag)


def test_time_differences_past_the_types_range_are_gaps_or_an_error():
    """Int64 times 2^64 - 2 apart: exit - enter wraps around to -2 in Int64 (and Datetime)
    arithmetic. Gaps and min_duration see the true length; a duration that cannot be
    written in the column's type stops the query instead of reading -2."""
    lo, hi = -(2**63) + 1, 2**63 - 1
    df = pl.DataFrame({"vessel": [1, 1, 2, 2], "zone": ["a", "a", "b", "b"], "time": [lo, hi, 0, 5]})
    split = [(1, "a", lo, lo, 0, 1), (1, "a", hi, hi, 0, 1), (2, "b", 0, 5, 5, 2)]
    for engine in ENGINES:
        assert run(df, engine, by="vessel", max_gap=10).rows() == split
        assert run(df, engine, by="vessel", max_gap=10, min_duration=3).rows() == [split[-1]]
        for times in (df, df.with_columns(pl.col("time").cast(pl.Datetime("ns")))):
            with pytest.raises(pl.exceptions.ComputeError, match="visits: a visit lasts longer than a difference of"):
                run(times, engine, by="vessel")
        # Long enough for min_duration, so kept, and then too long to write.
        with pytest.raises(pl.exceptions.ComputeError, match="visits: a visit lasts longer than a difference of Int64"):
            run(df, engine, by="vessel", min_duration=2**62)
    # The same span in Float64 is fine.
    wide = pz.visits(df.with_columns(pl.col("time").cast(pl.Float64)), by="vessel")
    assert wide["duration"].to_list() == [float(hi) - float(lo), 5.0]


def test_thresholds_are_compared_at_the_finer_unit():
    """A Duration literal in microseconds against nanosecond times cut the times' differences
    to microseconds (a gap of 6 h + 500 ns was no gap); against millisecond times it cut the
    threshold to milliseconds (999 ms passed a min_duration of 999.5 ms)."""
    ns = pl.DataFrame({"time": [0, 6 * 3600 * 10**9, 12 * 3600 * 10**9 + 500], "zone": ["a"] * 3})
    ns = ns.with_columns(pl.col("time").cast(pl.Datetime("ns")))
    for engine in ENGINES:
        assert run(ns, engine, max_gap="6h")["points"].to_list() == [2, 1]
        assert run(ns, engine, max_gap=dt.timedelta(hours=6, microseconds=1))["points"].to_list() == [3]
    ms = pl.DataFrame({"time": [0, 999], "zone": ["a", "a"]}).with_columns(pl.col("time").cast(pl.Datetime("ms")))
    for engine in ENGINES:
        assert run(ms, engine, min_duration=dt.timedelta(microseconds=999_500)).height == 0
        assert run(ms, engine, min_duration=dt.timedelta(milliseconds=999)).height == 1
        assert run(ms, engine, max_gap=dt.timedelta(microseconds=998_500))["points"].to_list() == [1, 1]


def test_pandas_timedeltas_to_the_nanosecond_and_large_float_thresholds():
    """A pandas Timedelta holds nanoseconds, which a timedelta's microseconds dropped (1,500 ns
    was 1 µs); an integral float threshold past 2^53 compared inexactly with integer times."""
    pd = pytest.importorskip("pandas")
    ns = pl.DataFrame({"time": [0, 1500, 3001], "zone": ["a"] * 3}).with_columns(pl.col("time").cast(pl.Datetime("ns")))
    us = ns.with_columns(pl.col("time").cast(pl.Datetime("us")))  # 0, 1, 3 µs
    for engine in ENGINES:
        assert run(ns, engine, max_gap=pd.Timedelta(nanoseconds=1500))["points"].to_list() == [2, 1]
        assert run(ns, engine, min_duration=pd.Timedelta(nanoseconds=3500)).height == 0
        assert run(ns, engine, min_duration=pd.Timedelta(nanoseconds=3001)).height == 1
        assert run(us, engine, max_gap=pd.Timedelta(nanoseconds=1500))["points"].to_list() == [2, 1]
        big = pl.DataFrame({"time": [0, 2**53 + 1], "zone": ["a", "a"]})
        assert run(big, engine, max_gap=float(2**53))["points"].to_list() == [1, 1]
        longer = pl.DataFrame({"time": [0, 2**53 + 3], "zone": ["a", "a"]})
        assert run(longer, engine, min_duration=float(2**53 + 4)).height == 0


def test_nan_thresholds_and_infinite_times():
    df = pl.DataFrame({"time": [0.0, 1.0, 10.0, float("inf"), float("-inf")], "zone": ["a"] * 5})
    for name in ("max_gap", "min_duration"):
        with pytest.raises(ValueError, match=f"{name} must be a number, not NaN"):
            pz.visits(df, **{name: float("nan")})
    # Infinite times are no times, as NaN and null ones are.
    assert pz.visits(df, max_gap=5).rows() == [("a", 0.0, 1.0, 1.0, 2), ("a", 10.0, 10.0, 0.0, 1)]


def test_time_in_zone_takes_columns_named_like_the_visits_columns():
    df = pl.DataFrame({"exit": [7, 7, 7], "enter": ["a", "a", "b"], "points": [0, 10, 20]})
    expected = [(7, "a", 10, 1, 2), (7, "b", 0, 1, 1)]
    assert pz.time_in_zone(df, by="exit", zone="enter", time="points").rows() == expected
    lazy = pz.time_in_zone(df.lazy(), by="exit", zone="enter", time="points")
    assert lazy.collect_schema().names() == ["exit", "enter", "duration", "visits", "points"]
    assert lazy.collect().rows() == expected


def test_time_in_zone_refuses_a_column_named_like_its_output():
    df = pl.DataFrame({"time": [0, 1], "visits": ["a", "a"]})
    with pytest.raises(ValueError, match="^time_in_zone: column 'visits' would clash with an output column"):
        pz.time_in_zone(df, zone="visits")
    assert pz.visits(df, zone="visits").height == 1  # visits' own output has no such column
    # Its messages name time_in_zone, not the visits it is built on.
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="^time_in_zone: time column 'when' not found"):
        pz.time_in_zone(df, zone="visits", time="when")
    with pytest.raises(pl.exceptions.ColumnNotFoundError, match="^visits: time column 'when' not found"):
        pz.visits(df, zone="visits", time="when")


def test_vessels_and_times_of_128_bits():
    """One Int128 sort key held vessel * 2^64 + time, which overflowed for 128-bit values (and
    its null vessel shared a place with -2^40): 128-bit columns take the multi-column sort."""
    df = pl.DataFrame(
        {"v": [2**70, 0, 2**70, 0, -(2**40), None, -(2**40), None], "time": list(range(8)), "zone": ["a"] * 8},
        schema={"v": pl.Int128, "time": pl.Int64, "zone": pl.String},
    )
    got = pz.visits(df, by="v")
    assert sorted(got.select("v", "points").rows(), key=str) == sorted(
        [(2**70, 2), (0, 2), (-(2**40), 2), (None, 2)], key=str
    )
    times = pl.DataFrame(
        {"v": [1, 2, 1, 2], "time": [0, 2**70, 2**71, 2**70 + 1], "zone": ["a"] * 4},
        schema={"v": pl.Int64, "time": pl.Int128, "zone": pl.String},
    )
    assert pz.visits(times, by="v").select("v", "points").rows() == [(1, 2), (2, 2)]


def test_wrapped_differences_are_compared_at_their_true_length():
    """A difference past the type's range wraps round to a negative number; it was a gap
    whatever max_gap (Int8 times 200 apart with max_gap=250; ns times 500 years apart with
    timedelta.max). It is compared at its true length; the visit it makes then does not fit the
    type, which is the one-line error an eager call gives."""
    df = pl.DataFrame({"time": [-100, 100], "zone": ["a", "a"]}, schema={"time": pl.Int8, "zone": pl.String})
    split = [("a", -100, -100, 0, 1), ("a", 100, 100, 0, 1)]
    assert pz.visits(df, max_gap=199).rows() == split
    for gap in (200, 250, None):
        with pytest.raises(
            pl.exceptions.ComputeError, match=r"^visits: a visit lasts longer than a difference of Int8"
        ):
            pz.visits(df, max_gap=gap)
    times = pl.Series([dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)]).cast(pl.Datetime("ns"))
    ns = pl.DataFrame({"time": times, "zone": ["a", "a"]})
    assert pz.visits(ns, max_gap=dt.timedelta(days=36_500)).height == 2
    with pytest.raises(pl.exceptions.ComputeError, match="^visits: a visit lasts longer"):
        pz.visits(ns, max_gap=dt.timedelta.max)
    # Within the type's range nothing changes: min_duration at the true length too.
    ok = pl.DataFrame({"time": [-100, -50, 20], "zone": ["a"] * 3}, schema={"time": pl.Int8, "zone": pl.String})
    assert pz.visits(ok, max_gap=60).rows() == [("a", -100, -50, 50, 2), ("a", 20, 20, 0, 1)]
    assert pz.visits(ok, max_gap=70, min_duration=100).rows() == [("a", -100, 20, 120, 3)]


def test_durations_are_read_exactly_or_refused():
    """Summed in floats and rounded to a timedelta's microsecond, "0.5us" was 0 (three visits
    of nanosecond times 100 ns apart with max_gap="0.5us") and "59m59.9999999s" one hour."""
    assert pz.parse_duration("1h30m") == dt.timedelta(minutes=90)
    assert pz.parse_duration("0.1s") == dt.timedelta(microseconds=100_000)
    assert pz.parse_duration("1w2d3h4m5s6ms7us") == dt.timedelta(
        weeks=1, days=2, hours=3, minutes=4, seconds=5, milliseconds=6, microseconds=7
    )
    for text in ("0.5us", "1.5us", "59m59.9999999s"):
        with pytest.raises(ValueError, match="finer than a microsecond"):
            pz.parse_duration(text)
    ns = pl.DataFrame({"time": [0, 100, 200], "zone": ["a"] * 3}).with_columns(pl.col("time").cast(pl.Datetime("ns")))
    with pytest.raises(ValueError, match="max_gap: duration '0.5us' is finer than a microsecond"):
        pz.visits(ns, max_gap="0.5us")
    assert pz.visits(ns, max_gap="1us").height == 1


def test_dates_and_milliseconds_far_apart_and_huge_thresholds():
    """Differences were compared in microseconds: Date times 120M days apart gave a null
    difference there (rows lost), millisecond times 300,000 years apart a failed cast. They
    are compared in the column's own unit now, a threshold as a fraction of it (999 ms is
    less than 999.5 ms). An integer threshold past 2^127 (no limit) was a Polars error."""
    dates = pl.DataFrame({"time": pl.Series([0, 120_000_000, 120_000_001]).cast(pl.Date), "zone": ["a"] * 3})
    assert pz.visits(dates, max_gap="1d")["points"].to_list() == [1, 2]
    assert pz.visits(dates, min_duration="1d")["points"].to_list() == [3]
    far = 300_000 * 365 * 86_400_000
    ms = pl.DataFrame({"time": pl.Series([0, far, far + 5]).cast(pl.Datetime("ms")), "zone": ["a"] * 3})
    assert pz.visits(ms, max_gap="1s")["points"].to_list() == [1, 2]
    close = pl.DataFrame({"time": pl.Series([0, 999, 1999]).cast(pl.Datetime("ms")), "zone": ["a"] * 3})
    assert (pz.visits(close, max_gap="999.5ms").height, pz.visits(close, max_gap="1s").height) == (2, 1)
    numbers = pl.DataFrame({"time": [0, 10, 2**62], "zone": ["a"] * 3})
    assert pz.visits(numbers, max_gap=2**200)["points"].to_list() == [3]
    assert pz.visits(numbers, max_gap=10**39, min_duration=2**100).height == 0
