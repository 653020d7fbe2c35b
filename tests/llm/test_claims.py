"""Answers you can check: every sentence a model writes is decided against the passages it was given.

A scripted model server (the test is about checking, not generating) answers over real passages: the sample
handbook in English and a Japanese policy ingested beside it. Each way a model goes wrong is caught, in both
languages: a changed number, amount, date, duration or unit; a swapped entity or role; a flipped negation or
modality; an addition the sources never make. Paraphrases and summaries stay supported; `30` and `thirty` are
equal; uncited sentences get the citation of the passage that supports them."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from app.cli import cli
from llm import Answerer, AnswerOptions, OpenAIBackend
from llm.claims import answer_sentences, quantities
from retrieval import AccessScope
from tests.conftest import SAMPLES
from tests.llm.fake_vllm import FakeVLLM

EVERYONE = AccessScope(("everyone",))
COMMUTING_JA = """# 通勤手当規程

## 自転車通勤
自転車通勤手当は月額3万円を上限として支給する。申請には部長の承認が必要である。

## 定期券
定期券代は6か月分をまとめて支給する。私用の交通費は支給しない。

## 通勤経路
通勤経路は12月1日までに総務部へ届け出る。
"""

# (question, answer the model gives, supported?, kind of mistake)
CASES = [
    (
        "How long is the sabbatical?",
        "The sabbatical is 4 weeks long [1].",
        True,
        "paraphrase: a plural for the source's '4-week'",
    ),
    (
        "How many weeks of parental leave do parents get?",
        "Every parent receives 16 weeks of fully paid parental leave [1].",
        True,
        "faithful",
    ),
    (
        "How many weeks of parental leave do parents get?",
        "Parents get sixteen weeks of paid parental leave.",
        True,
        "paraphrase, number in words, uncited",
    ),
    (
        "How many weeks of parental leave do parents get?",
        "Every parent receives 18 weeks of fully paid parental leave [1].",
        False,
        "changed number",
    ),
    (
        "How many weeks of parental leave do parents get?",
        "Every parent receives 16 months of fully paid parental leave [1].",
        False,
        "changed unit",
    ),
    (
        "What is the hotel limit per night in Tokyo?",
        "The hotel limit is 25,000 yen per night in Tokyo [1].",
        False,
        "changed amount",
    ),
    (
        "How long are deleted files kept on Starter?",
        "Deleted files are kept for thirty days on the Starter plan [1].",
        True,
        "30 as thirty",
    ),
    (
        "How long are deleted files kept on Starter?",
        "Deleted files are never kept on the Starter plan [1].",
        False,
        "flipped negation",
    ),
    (
        "What should I do when sync is stuck?",
        "Ask the CFO to restart the sync server for you.",
        False,
        "swapped role, fabricated",
    ),
    (
        "Can I get a refund for my annual plan?",
        "You will also receive a partial refund of 50% after the first year.",
        False,
        "fabricated addition",
    ),
    (
        "When is the office closed for the year-end break?",
        "The office is closed from December 24 to January 3 for the year-end break [1].",
        False,
        "changed date",
    ),
    (
        "Can I book business class for a flight?",
        "Business class may only be booked for flights under two hours.",
        False,
        "changed modality",
    ),
    (
        "Can Enterprise customers bring their own encryption keys?",
        "Starter customers can bring their own encryption keys.",
        False,
        "swapped entity",
    ),
    (
        "How long is the paid sabbatical?",
        "According to source [1], employees may take a 4-week paid sabbatical.",
        True,
        "says where it read it",
    ),
    ("自転車通勤手当はいくらですか？", "自転車通勤手当は月額3万円が上限です。", True, "Japanese paraphrase"),
    (
        "自転車通勤手当はいくらですか？",
        "[1]によると、自転車通勤手当は月額3万円が上限です。",
        True,
        "Japanese says where",
    ),
    ("自転車通勤手当はいくらですか？", "自転車通勤手当は年額3万円が上限です。", False, "Japanese changed period"),
    (
        "自転車通勤手当はいくらですか？",
        "自転車通勤手当は申請不要で誰でも受け取れます。",
        False,
        "Japanese changed modality",
    ),
    (
        "自転車通勤手当はいくらですか？",
        "自転車通勤手当は月額3万円が上限で、さらにヘルメット代1万円も支給します。",
        False,
        "Japanese fabricated addition",
    ),
    ("自転車通勤手当はいくらですか？", "自転車通勤手当は月額5万円が上限です。", False, "Japanese changed amount"),
    (
        "自転車通勤手当の申請には誰の承認が必要ですか？",
        "申請には社長の承認が必要です。",
        False,
        "Japanese swapped role",
    ),
    ("私用の交通費は支給されますか？", "私用の交通費も支給します。", False, "Japanese flipped negation"),
    (
        "定期券代はどのように支給されますか？",
        "定期券代は3か月分をまとめて支給します。",
        False,
        "Japanese changed duration",
    ),
    ("通勤経路はいつまでに届け出ますか？", "通勤経路は12月1日までに総務部へ届け出ます。", True, "Japanese date"),
    (
        "通勤経路はいつまでに届け出ますか？",
        "通勤経路は12月15日までに総務部へ届け出ます。",
        False,
        "Japanese changed date",
    ),
]


@pytest.fixture(scope="module")
def server():
    with FakeVLLM() as fake:
        yield fake


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory, embedder):
    from app.service import Kura
    from app.settings import Settings

    folder = tmp_path_factory.mktemp("claims") / "kb"
    shutil.copytree(SAMPLES, folder)
    (folder / "policies" / "通勤手当規程.md").write_text(COMMUTING_JA, encoding="utf-8")
    kura = Kura(Settings(home=folder.parent / "home", llm_backend="extractive", _env_file=None))
    kura.__dict__["embedder"] = embedder
    kura.ingestor.ingest([folder], groups=("everyone",))
    yield kura
    kura.close()


def scripted(knowledge, server, answer: str, **options) -> Answerer:
    backend = OpenAIBackend(server.base_url, f"say:{answer}", "key", timeout_s=30)
    return Answerer(knowledge.retriever, knowledge.embedder, backend, AnswerOptions(**options))


@pytest.mark.parametrize("question, answer, supported, kind", CASES, ids=[case[3] for case in CASES])
def test_each_kind_of_mistake_is_caught_and_faithful_sentences_pass(
    knowledge, server, question, answer, supported, kind
):
    result = scripted(knowledge, server, answer).ask(question, EVERYONE)
    [claim] = result.claims
    assert claim.supported is supported, (kind, claim)
    if supported:
        assert claim.citations and claim.evidence and result.grounded == 1.0
    else:
        assert claim.reason and result.grounded == 0.0


def test_an_uncited_or_wrongly_cited_sentence_gets_the_source_that_supports_it(knowledge, server):
    question = "How many weeks of parental leave do parents get?"
    result = scripted(knowledge, server, "Every parent receives 16 weeks of fully paid parental leave [4].").ask(
        question, EVERYONE
    )
    [claim] = result.claims
    supporting = result.passages[claim.citations[0] - 1].chunk.source
    assert claim.supported and supporting.endswith("leave-and-time-off.md")
    assert any(c.n == claim.citations[0] for c in result.citations), "the supporting source is listed"


def test_a_wrong_number_is_reported_with_what_the_sources_say(knowledge, server):
    result = scripted(knowledge, server, "Parents get 6 weeks of parental leave [1].").ask(
        "How many weeks of parental leave do parents get?", EVERYONE
    )
    assert (
        result.claims[0].reason == "the sources say 16 weeks, 3, 24 months, not 6 weeks"
        or "16 weeks" in result.claims[0].reason
        and "not 6 weeks" in result.claims[0].reason
    )


def test_a_summary_of_several_sentences_keeps_each_sentence_checked(knowledge, server):
    answer = (
        "Every parent receives 16 weeks of fully paid parental leave [1]. It can be taken in up to three "
        "blocks [1]. Parents also get a 500,000 yen bonus."
    )
    result = scripted(knowledge, server, answer).ask("How does parental leave work?", EVERYONE)
    assert [c.supported for c in result.claims] == [True, True, False] and result.grounded == 0.667


def test_drop_mode_removes_unsupported_sentences_and_falls_back_to_the_quotes(knowledge, server):
    question = "How many weeks of parental leave do parents get?"
    mixed = scripted(
        knowledge,
        server,
        "Every parent receives 16 weeks of fully paid parental leave [1]. Managers get 30 weeks.",
        unsupported="drop",
    ).ask(question, EVERYONE)
    assert "30 weeks" not in mixed.answer and "16 weeks" in mixed.answer and mixed.grounded == 1.0
    assert any("removed" in w for w in mixed.warnings)
    wrong = scripted(knowledge, server, "Parents get 2 weeks.", unsupported="drop").ask(question, EVERYONE)
    assert (
        wrong.answer.startswith("“")
        and "16 weeks" in wrong.answer
        and any("passages' own words" in w for w in wrong.warnings)
    )


def test_answer_sentences_skip_headings_and_split_lists_and_japanese():
    text = "## Paid Time Off\n- Employees get 25 days [1].\n- Unused days carry over. They expire in March.\n有給は25日です。繰越できます。"
    assert answer_sentences(text) == [
        "Employees get 25 days [1].",
        "Unused days carry over.",
        "They expire in March.",
        "有給は25日です。",
        "繰越できます。",
    ]
    assert quantities("Thirty days, 3万円, 18:00 and March 3 [2]") == {
        (30.0, "day"),
        (30000.0, "yen"),
        (18.0, "time"),
        (3.0, "march"),
    }


def test_claims_appear_in_kura_ask_json_and_text(knowledge, server, tmp_path, monkeypatch):
    monkeypatch.setenv("KURA_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KURA_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("KURA_LLM_MODEL", "say:Every parent receives 18 weeks of fully paid parental leave [1].")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", str(SAMPLES / "policies"), "--json"]).exit_code == 0
    question = ["ask", "How many weeks of parental leave do parents get?", "--backend", "openai"]
    data = json.loads(runner.invoke(cli, [*question, "--json"]).stdout)
    assert data["grounded"] == 0.0 and data["claims"][0]["supported"] is False
    assert set(data["claims"][0]) == {"text", "supported", "citations", "evidence", "score", "reason"}
    text = runner.invoke(cli, question)
    assert "0 of 1 sentences supported" in text.output and "not 18 weeks" in text.output
