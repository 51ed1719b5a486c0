"""lawkit.ordering: one dependency order for terms, ties and value completion."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lawkit
from lawkit.errors import LawkitError, ValuesError
from lawkit.ordering import CycleError, topological_order


def test_order_puts_dependencies_first_and_ignores_outside_names():
    assert topological_order({"L": ["x", "N"], "x": ["y"], "y": []}) == ["y", "x", "L"]


def test_ties_keep_the_mapping_order():
    assert topological_order({"c": [], "a": [], "b": ["c"]}) == ["c", "a", "b"]
    assert topological_order({"a": [], "c": [], "b": []}) == ["a", "c", "b"]


def test_dependency_sets_give_the_same_order_as_lists():
    deps = {"d": {"c", "b"}, "c": {"a"}, "b": {"a"}, "a": set()}
    assert topological_order(deps) == ["a", "c", "b", "d"]


def test_cycle_names_its_members_in_order():
    with pytest.raises(CycleError) as info:
        topological_order({"x": [], "a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert info.value.cycle == ["a", "b", "c"]
    assert str(info.value) == "a = b = c = a form a cycle"
    assert isinstance(info.value, LawkitError)
    assert pickle.loads(pickle.dumps(info.value)).cycle == ["a", "b", "c"]


def test_self_dependency_is_a_cycle():
    with pytest.raises(CycleError) as info:
        topological_order({"a": ["a"]})
    assert info.value.cycle == ["a"]


def test_long_chain_is_fast_and_not_recursive():
    n = 20000
    deps = {f"t{i}": [f"t{i + 1}"] for i in range(n)} | {f"t{n}": []}
    order = topological_order(deps)
    assert order[0] == f"t{n}" and order[-1] == "t0"


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdefgh"), st.lists(st.sampled_from("abcdefghxy"))))
def test_order_property(deps):
    """Either every key once, each after its dependencies, or a true cycle."""
    try:
        order = topological_order(deps)
    except CycleError as err:
        c = err.cycle
        assert c and all(c[(i + 1) % len(c)] in deps[c[i]] for i in range(len(c)))
        return
    assert sorted(order) == sorted(deps)
    pos = {n: i for i, n in enumerate(order)}
    assert all(pos[d] < pos[n] for n, ds in deps.items() for d in ds if d in deps)


TIES = "law t:\n    inputs N\n    params a > 0, d = c + 1, c = 2*a\n    L = a*N + d\n"


def test_complete_values_fills_ties_in_dependency_order():
    law = lawkit.parse(TIES)["t"]
    assert law.complete_values({"a": 1.5}) == {"a": 1.5, "c": 3.0, "d": 4.0}


@pytest.mark.parametrize("values, message", [
    ({"a": 1, "zz": 2}, "'zz' is not a parameter of law 't'; parameters: a, d, c"),
    ({"aa": 1}, "'aa' is not a parameter of law 't'; did you mean 'a'?"),
    ({}, "values for law 't' lack parameter(s): a"),
    ({"a": float("nan")}, "the value of 'a' for law 't' is not finite: nan"),
    ({"a": "x"}, "the value of 'a' for law 't' is not a real number: 'x'"),
    ({"a": -1}, "value -1 of 'a' is outside its bounds (> 0) in law 't'"),
])
def test_complete_values_validates(values, message):
    with pytest.raises(ValuesError) as info:
        lawkit.parse(TIES)["t"].complete_values(values)
    assert str(info.value) == message


def test_terms_expand_through_a_chain_in_any_file_order():
    law = lawkit.parse("law t:\n    inputs N\n    params a\n    L = X + 1\n    X = Y*a\n    Y = N^2\n")["t"]
    assert str(law.expr) == "N**2*a + 1"
