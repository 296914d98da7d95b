"""Entity canonicalisation within and across articles."""

from __future__ import annotations

from storyline.analyse.entities import (
    EntityMention,
    canonicalise_story,
    clean_name,
    find_acronyms,
)


def canon(mentions: list[EntityMention], surface: str) -> set[str]:
    return {m.canonical for m in mentions if m.text == surface}


def test_clean_name_drops_titles_determiners_and_possessives():
    assert clean_name("US President Joe Biden's", "PERSON") == "Joe Biden"
    assert clean_name("the European Commission", "ORG") == "European Commission"
    assert clean_name("U.S.", "GPE") == "U.S."


def test_find_acronyms_links_expansion_and_acronym():
    text = "a meeting of the Organization for Security and Co-operation in Europe (OSCE) in May"
    found = find_acronyms(text)
    assert len(found) == 1
    long_text, acronym, ls, le, _, _ = found[0]
    assert long_text == "Organization for Security and Co-operation in Europe"
    assert acronym == "OSCE" and text[ls:le] == long_text


def test_find_acronyms_ignores_unrelated_parentheses():
    assert find_acronyms("The Senate Finance Committee (Washington) met.") == []


def test_person_short_forms_join_the_full_name(nlp):
    from storyline.analyse.entities import extract_entities

    text = (
        "US President Joe Biden met the governors on Monday. "
        "Biden said the plan was ready, and Joe Biden's aides agreed."
    )
    mentions = extract_entities([text], nlp)[0]
    people = {m.canonical for m in mentions if m.label == "PERSON"}
    assert people == {"Joe Biden"}


def test_acronym_and_expansion_are_one_organisation(nlp):
    from storyline.analyse.entities import extract_entities

    text = (
        "Ministers met at the Organization for Security and Co-operation in Europe (OSCE). "
        "The OSCE will meet again in June."
    )
    mentions = extract_entities([text], nlp)[0]
    orgs = {m.canonical for m in mentions if m.label == "ORG"}
    assert orgs == {"Organization for Security and Co-operation in Europe"}


def test_washington_as_government_versus_city(nlp):
    from storyline.analyse.entities import extract_entities

    text = (
        "Washington imposed new sanctions on the company. "
        "The delegation arrived in Washington on Tuesday."
    )
    mentions = extract_entities([text], nlp)[0]
    washington = [m for m in mentions if m.text == "Washington"]
    assert [m.canonical for m in washington] == ["United States", "Washington"]


def test_spelling_variants_are_one_city_across_outlets():
    a = [EntityMention("Kiev", 0, 4, "GPE", "Kyiv")]
    b = [EntityMention("Kyiv", 0, 4, "GPE", "Kyiv"), EntityMention("Kyiv", 10, 14, "GPE", "Kyiv")]
    actors = canonicalise_story({"a": a, "b": b}, {"a": "Outlet A", "b": "Outlet B"})
    assert len(actors) == 1
    assert actors[0].name == "Kyiv" and "Kiev" in actors[0].aliases
    assert actors[0].mentions_by_outlet == {"Outlet A": 1, "Outlet B": 2}
    assert actors[0].type == "place"


def test_surname_in_one_article_joins_full_name_in_another():
    a = [EntityMention("Joe Biden", 0, 9, "PERSON", "Joe Biden")]
    b = [EntityMention("Biden", 0, 5, "PERSON", "Biden")]
    actors = canonicalise_story({"a": a, "b": b}, {"a": "A", "b": "B"})
    assert [(x.name, x.mentions_by_outlet) for x in actors] == [("Joe Biden", {"A": 1, "B": 1})]


def test_acronym_alone_in_another_article_joins_the_organisation():
    a = [
        EntityMention(
            "North Atlantic Treaty Organization", 0, 34, "ORG", "North Atlantic Treaty Organization"
        ),
        EntityMention("NATO", 36, 40, "ORG", "North Atlantic Treaty Organization"),
    ]
    b = [EntityMention("NATO", 0, 4, "ORG", "NATO")]
    actors = canonicalise_story({"a": a, "b": b}, {"a": "A", "b": "B"})
    assert len(actors) == 1 and actors[0].mentions_by_outlet == {"A": 2, "B": 1}


def test_different_people_stay_apart():
    a = [EntityMention("Anna Berg", 0, 9, "PERSON", "Anna Berg")]
    b = [EntityMention("Tom Reed", 0, 8, "PERSON", "Tom Reed")]
    assert len(canonicalise_story({"a": a, "b": b}, {"a": "A", "b": "B"})) == 2
