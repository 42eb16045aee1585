"""An independent recomputation of dupin's published figures from surveys/METHOD.md alone.

Reads only: the plan files (surveys/*.toml), an answers export (CSV with codes), the schools and
the results of the JSON API. Recomputes each question's counts, rate, Wilson interval, mean, index
and their intervals, each area's score with its standard error and interval, and the
questionnaire's overall index, for the whole campaign and for each school, and asserts agreement
with the API to 1e-9. Python's standard library only (the t quantile is inverted here from the
incomplete beta function, independently of dupin's statrs).

Usage: python3 tests/recompute.py SURVEYS_DIR WORK_DIR
WORK_DIR holds answers.csv, schools.json, results.json, school-<id>.json (the results of one
school) and day-<YYYY-MM-DD>.json (the results of the answers submitted that day, China time).
"""

import csv
import json
import math
import os
import sys
import tomllib

Z = 1.959963984540054
TOLERANCE = 1e-9


def betacf(a, b, x):
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 10000):
        m2 = 2 * m
        for aa in (m * (b - m) * x / ((qam + m2) * (a + m2)),
                   -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))):
            d = 1 + aa * d
            d = 1 / (tiny if abs(d) < tiny else d)
            c = 1 + aa / c
            c = tiny if abs(c) < tiny else c
            step = d * c
            h *= step
        if abs(step - 1) < 1e-16:
            break
    return h


def ibeta(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                     + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1) / (a + b + 2):
        return front * betacf(a, b, x) / a
    return 1 - front * betacf(b, a, 1 - x) / b


def t975(df):
    """METHOD.md#quantiles: exact below 1000 degrees of freedom, A&S 26.7.5 from 1000."""
    if df >= 1000:
        z = Z
        g = [(z**3 + z) / 4, (5 * z**5 + 16 * z**3 + 3 * z) / 96,
             (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384,
             (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160]
        return z + sum(gi / df ** (i + 1) for i, gi in enumerate(g))
    low, high = Z, 700.0
    for _ in range(200):
        mid = (low + high) / 2
        if 0.5 * ibeta(df / 2, 0.5, df / (df + mid * mid)) > 0.025:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def interval(value, se, df, lo, hi):
    """METHOD.md#intervals."""
    if se <= 0:
        return (min(max(value, lo), hi),) * 2
    if df is None:
        return None
    half = t975(df) * se
    return (min(max(value - half, lo), hi), min(max(value + half, lo), hi))


def wilson(successes, n, fpc):
    p = successes / n
    if fpc <= 0:
        return (p, p)
    ne = n / fpc
    z2 = Z * Z
    den = 1 + z2 / ne
    centre = (p + z2 / (2 * ne)) / den
    half = Z / den * math.sqrt(p * (1 - p) / ne + z2 / (4 * ne * ne))
    return (max(0.0, centre - half), min(1.0, centre + half))


def fpc_of(n, population):
    if population and population > 0 and n <= population:
        return 1 - n / population
    return 1.0


checked = 0


def same(label, mine, theirs):
    global checked
    if mine is None or theirs is None:
        assert mine is None and theirs is None, f"{label}: {mine} against {theirs}"
        return
    if isinstance(mine, (tuple, list)):
        assert isinstance(theirs, dict), f"{label}: {theirs}"
        same(label + ".low", mine[0], theirs["low"])
        same(label + ".high", mine[1], theirs["high"])
        return
    assert abs(mine - theirs) <= TOLERANCE * max(1.0, abs(mine)), \
        f"{label}: recomputed {mine!r}, dupin published {theirs!r}"
    checked += 1


def load_plan(surveys_dir, survey_id):
    with open(os.path.join(surveys_dir, "scales.toml"), "rb") as file:
        scales = tomllib.load(file).get("scales", {})
    with open(os.path.join(surveys_dir, f"{survey_id}.toml"), "rb") as file:
        survey = tomllib.load(file)
    scales.update(survey.get("scales", {}))
    with open(os.path.join(surveys_dir, "rating.toml"), "rb") as file:
        rating = tomllib.load(file)
    return survey, scales, rating


def options_of(question, scales):
    """(code, score, satisfied) per option, for kinds with options."""
    kind = question["kind"]
    if kind in ("scale", "matrix"):
        return [(p["code"], p.get("score"), p.get("satisfied", False))
                for p in scales[question["scale"]]["points"]]
    if kind == "single":
        return [(o["code"], o.get("score"), False) for o in question["options"]]
    if kind == "yes_no":
        yes, no = question.get("yes_score"), question.get("no_score")
        if yes is None or no is None:
            yes, no = 100, 0
        return [("yes", yes, yes > no), ("no", no, no > yes)]
    if kind == "rating":
        return [(str(v), v, False) for v in range(11)]
    return None


def item_index(question, scales, value):
    """METHOD.md#respondent: one answer as a 0–100 item."""
    options = options_of(question, scales)
    scored = [score for _, score, _ in options if score is not None]
    low, high = min(scored), max(scored)
    if high <= low:
        return None
    def index(code):
        score = dict((c, s) for c, s, _ in options).get(code)
        return None if score is None else (score - low) / (high - low) * 100
    if question["kind"] == "matrix":
        items = [index(code) for code in value if index(code) is not None]
        return sum(items) / len(items) if items else None
    if question["kind"] == "rating":
        return float(value) * 10
    return index(value)


def main():
    surveys_dir, work = sys.argv[1], sys.argv[2]
    results = json.load(open(os.path.join(work, "results.json"), encoding="utf-8"))
    schools = json.load(open(os.path.join(work, "schools.json"), encoding="utf-8"))["schools"]
    survey, scales, rating = load_plan(surveys_dir, results["campaign"]["survey"]["id"])
    population_basis = {"parents": "enrolment", "teachers": "teachers", "students": "enrolment"}
    population_basis.update(rating.get("population", {}))
    basis = population_basis[survey["audience"]]
    codes = [row["code"] for row in results["rating"]["schools"]]
    by_code = {school["code"]: school for school in schools}
    def population_of(code):
        return None if basis == "none" else (by_code[code][basis] or None)

    with open(os.path.join(work, "answers.csv"), encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    header, answers = rows[0], rows[1:]
    column = {name: index for index, name in enumerate(header)}
    questions = []
    for section in survey["sections"]:
        for question in section["questions"]:
            question = dict(question, area=section["area"])
            if question["kind"] == "matrix":
                question["columns"] = [column[f"{question['text']} · {row['text']}"]
                                       for row in question["rows"]]
            else:
                question["columns"] = [column[question["text"]]]
            questions.append(question)
    weights = {area: weight for area, weight in rating["areas"].items()}

    def check_group(label, view, group):
        n = len(group)
        population = None
        group_codes = codes if label.startswith(("county", "day")) else \
            sorted({row[column["学校代码"]] for row in group})
        pops = [population_of(code) for code in group_codes]
        population = None if any(p is None for p in pops) else sum(pops)
        same(f"{label} responses", n, view["responses"])
        fpc = fpc_of(n, population)
        published = {q["key"]: q for s in view["sections"] for q in s["questions"]}
        # METHOD.md#question
        for question in questions:
            options = options_of(question, scales)
            if options is None or question["kind"] == "multiple":
                continue
            keys = ([f"{question['id']}.{row['id']}" for row in question["rows"]]
                    if question["kind"] == "matrix" else [question["id"]])
            for key, col in zip(keys, question["columns"]):
                values = [row[col] for row in group if row[col] != ""]
                counts = {code: values.count(code) for code, _, _ in options}
                shown = published[key]
                for option in shown["options"]:
                    same(f"{label} {key} {option['code']}", counts[option["code"]], option["count"])
                judged = question.get("scored") or question["kind"] in ("scale", "matrix", "rating")
                scored = [(score, sat) for code, score, sat in options for _ in range(counts[code])
                          if score is not None]
                if not judged or not scored:
                    continue
                sat = shown["satisfaction"]
                nq = len(scored)
                mean = sum(s for s, _ in scored) / nq
                same(f"{label} {key} n", nq, sat["n"])
                same(f"{label} {key} mean", mean, sat["mean"])
                if any(flag for _, _, flag in options):
                    yes = sum(1 for _, s in scored if s)
                    same(f"{label} {key} rate", yes / nq, sat["rate"])
                    same(f"{label} {key} rate interval", wilson(yes, nq, fpc), sat["rate_interval"])
                lo = min(s for _, s, _ in options if s is not None)
                hi = max(s for _, s, _ in options if s is not None)
                sd = math.sqrt(sum((s - mean) ** 2 for s, _ in scored) / (nq - 1)) if nq > 1 else None
                if fpc <= 0:
                    se, df = 0.0, None
                elif sd is None:
                    se, df = None, None
                else:
                    se, df = sd * math.sqrt(fpc / nq), nq - 1
                mean_interval = None if se is None else interval(mean, se, df, lo, hi)
                same(f"{label} {key} mean interval", mean_interval, sat["mean_interval"])
                if hi > lo:
                    to_index = lambda v: (v - lo) / (hi - lo) * 100
                    same(f"{label} {key} index", to_index(mean), sat["index"])
                    index_interval = None if se is None else \
                        interval(to_index(mean), se / (hi - lo) * 100, df, 0, 100)
                    same(f"{label} {key} index interval", index_interval, sat["index_interval"])
        # METHOD.md#respondent, #area-score, #overall-index
        people = []
        for row in group:
            items = {}
            for question in questions:
                if not question.get("scored"):
                    continue
                if question["kind"] == "matrix":
                    value = [row[c] for c in question["columns"] if row[c] != ""]
                    if not value:
                        continue
                else:
                    value = row[question["columns"][0]]
                    if value == "":
                        continue
                item = item_index(question, scales, value)
                if item is not None:
                    items.setdefault(question["area"], []).append(item)
            people.append({area: sum(v) / len(v) for area, v in items.items()})
        areas = {}
        for area_view in view["areas"]:
            area = area_view["area"]
            scores = [p[area] for p in people if area in p]
            same(f"{label} area {area} n", len(scores), area_view["n"])
            if not scores:
                continue
            mean = sum(scores) / len(scores)
            same(f"{label} area {area} index", mean, area_view["index"])
            if len(scores) > 1 or fpc <= 0:
                sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)) \
                    if len(scores) > 1 else 0.0
                se = sd * math.sqrt(fpc / len(scores))
                same(f"{label} area {area} se", se, area_view["standard_error"])
                same(f"{label} area {area} interval",
                     interval(mean, se, len(scores) - 1 if se > 0 else None, 0, 100),
                     area_view["index_interval"])
                areas[area] = (mean, len(scores))
        usable = {a: w for a, w in weights.items() if w > 0 and a in areas}
        if usable:
            total = sum(usable.values())
            c = {a: w / total for a, w in usable.items()}
            value = sum(c[a] * areas[a][0] for a in c)
            sum_u2 = 0.0
            for p in people:
                u = sum(c[a] * (p[a] - areas[a][0]) / math.sqrt(areas[a][1] * (areas[a][1] - 1))
                        for a in c if a in p and areas[a][1] > 1)
                sum_u2 += u * u
            se = math.sqrt(fpc * sum_u2)
            overall = view["overall"]
            same(f"{label} overall", value, overall["value"])
            same(f"{label} overall se", se, overall["standard_error"])
            same(f"{label} overall interval",
                 interval(value, se, n - 1 if se > 0 else None, 0, 100), overall["interval"])

    check_group("county", results, answers)
    for name in sorted(os.listdir(work)):
        if name.startswith("school-"):
            view = json.load(open(os.path.join(work, name), encoding="utf-8"))
            code = next(s["code"] for s in schools if s["id"] == view["filter"]["school"])
            group = [row for row in answers if row[column["学校代码"]] == code]
            check_group(f"school {code}", view, group)
        if name.startswith("day-"):
            view = json.load(open(os.path.join(work, name), encoding="utf-8"))
            day = name[len("day-"):-len(".json")]
            # METHOD.md#answers: the 提交时间 column is China time; a day is a whole day.
            group = [row for row in answers if row[column["提交时间"]].startswith(day)]
            assert group, f"no answer on {day}"
            check_group(f"day {day}", view, group)
    print(f"recomputed {checked} figures, all within {TOLERANCE}")


if __name__ == "__main__":
    main()
