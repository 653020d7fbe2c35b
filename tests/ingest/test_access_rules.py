"""Where a document's access groups come from: the nearest .kura-acl file where the file really lives (up to the
library root), else the file's POSIX group (when enabled), else the groups given to ingest. Changing them updates
the index without re-embedding. Then the attacks: links that would carry a board file into a public folder or out
of the library, subfolders ingested alone, re-syncs that would open documents up, ACLs that cannot be read, and a
tightened ACL on a file that no longer parses. Every one ends with the board text unreadable to everyone else."""

from __future__ import annotations

import grp
import os
import shutil
from pathlib import Path

import pytest

from ingest.access import AccessRules, read_acl
from ingest.report import AclWarning, Held
from retrieval import AccessScope
from tests.conftest import SAMPLES


def test_acl_files_list_groups_with_comments(tmp_path):
    acl = tmp_path / ".kura-acl"
    acl.write_text("# board only\nboard, auditors\n\nauditors  # twice\n")
    assert read_acl(acl) == ("board", "auditors")


def test_the_nearest_acl_wins_up_to_the_ingested_root(tmp_path):
    (tmp_path / "kb" / "board" / "2026").mkdir(parents=True)
    (tmp_path / ".kura-acl").write_text("outside-the-root")
    (tmp_path / "kb" / "board" / ".kura-acl").write_text("board")
    rules = AccessRules(default=("everyone",))
    root = tmp_path / "kb"
    assert rules.groups_for(root / "board" / "2026" / "minutes.md", root) == ("board",)
    assert rules.groups_for(root / "faq.md", root) == ("everyone",), "an ACL above the root does not apply"


def test_posix_group_mapping_is_opt_in(tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text("x")
    group = grp.getgrgid(os.stat(doc).st_gid).gr_name
    assert AccessRules(("everyone",), posix_groups=True).groups_for(doc, tmp_path) == (group,)
    assert AccessRules(("everyone",)).groups_for(doc, tmp_path) == ("everyone",)


def test_changing_an_acl_regroups_without_reembedding(kura, tmp_path):
    folder = tmp_path / "kb"
    shutil.copytree(SAMPLES, folder)
    kura.ingestor.ingest([folder], groups=("everyone",))
    assert kura.retriever.search("parental leave", AccessScope(("everyone",)), k=3)

    (folder / "policies" / ".kura-acl").write_text("hr\n")
    report = kura.ingestor.ingest([folder], groups=("everyone",))
    assert (report.regrouped, report.updated, report.chunks) == (5, 0, 0), "no document was parsed or embedded"
    leave = [
        h
        for h in kura.retriever.search("parental leave weeks", AccessScope(("everyone",)), k=10)
        if "policies" in h.chunk.source
    ]
    assert leave == [], "revoked on the very next query"
    hits = kura.retriever.search("parental leave weeks", AccessScope(("hr",)), k=3)
    assert hits and all(h.chunk.groups == ("hr",) for h in hits)
    assert {r.groups for r in kura.manifest.all() if "/policies/" in r.path} == {("hr",)}

    (folder / "policies" / ".kura-acl").unlink()
    held = kura.ingestor.ingest([folder], groups=("everyone",))
    assert len(held.held) == 5, "removing an ACL never widens access silently"
    assert held.held[0].groups == [] and held.held[0].wanted == ["everyone"]
    assert {r.groups for r in kura.manifest.all() if "/policies/" in r.path} == {()}, "what both allow: nobody"
    assert not kura.retriever.search("parental leave weeks", AccessScope(("hr",)), k=3)
    assert kura.ingestor.ingest([folder], groups=("everyone",), allow_widening=True).regrouped == 5
    assert kura.retriever.search("parental leave", AccessScope(("everyone",)), k=3)


# --- Where a file really lives decides its groups (security findings of the adversarial pass) -----------------

BOARD = "The board approved project KESTREL-4411 for 9 billion yen."
PUBLIC = "The cafeteria opens at eight and serves miso soup every Friday."


def library(tmp_path):
    """kb/public (no ACL) and kb/exec (board only), each with one document."""
    kb = tmp_path / "kb"
    (kb / "exec" / "sub").mkdir(parents=True)
    (kb / "public").mkdir()
    (kb / "exec" / ".kura-acl").write_text("exec\n")
    (kb / "exec" / "board.md").write_text(f"# Board\n\n{BOARD}\n")
    (kb / "exec" / "sub" / "plans.md").write_text("# Plans\n\nKESTREL-4411 closes in March, says the board.\n")
    (kb / "public" / "cafeteria.md").write_text(f"# Cafeteria\n\n{PUBLIC}\n")
    return kb


def readable(kura, groups, query="KESTREL-4411 board project"):
    return " ".join(h.chunk.text + h.chunk.source for h in kura.retriever.search(query, AccessScope(groups), k=20))


def failures(report) -> dict[str, str]:
    return {Path(f.path).name: f.error for f in report.failed}


def test_links_never_carry_a_file_into_other_groups_or_out_of_the_library(kura, tmp_path):
    kb = library(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "salaries.md").write_text("# Salaries\n\nThe CEO earns 90 million yen.\n")
    kura.users.add("mei", "correct horse battery", ("staff",))  # KURA_HOME/users.json with a password hash
    public = kb / "public"
    (public / "board-link.md").symlink_to(kb / "exec" / "board.md")
    (public / "passwd.txt").symlink_to("/etc/passwd")
    (public / "users.json.txt").symlink_to(kura.settings.users_path.resolve())
    (public / "salaries.md").symlink_to(outside / "salaries.md")
    (public / "etc").symlink_to("/etc")
    (public / "gone.md").symlink_to(tmp_path / "nothing-here.md")

    report = kura.ingestor.ingest([kb], groups=("everyone",))
    failed = failures(report)
    assert "outside the ingested folder" in failed["passwd.txt"] and "outside" in failed["salaries.md"]
    assert "outside the ingested folder" in failed["etc"]
    assert "KURA_HOME" in failed["users.json.txt"] or "outside" in failed["users.json.txt"]
    assert "link to nothing" in failed["gone.md"]
    paths = [r.path for r in kura.manifest.all()]
    assert not any(p.startswith(("/etc", str(outside), str(kura.settings.home.resolve()))) for p in paths)
    # the link inside the library is the board document itself, under the board's rules
    assert str(kb / "exec" / "board.md") in paths and str(public / "board-link.md") not in paths
    assert "KESTREL" not in readable(kura, ("everyone",)) and "root:" not in readable(kura, ("everyone",), "root bin")
    assert "bcrypt" not in readable(kura, ("everyone",), "password_hash mei") and "90 million" not in readable(
        kura, ("everyone",), "CEO salary"
    )
    assert "KESTREL" in readable(kura, ("exec",))

    # ingesting the public folder alone: the link now leaves what is ingested
    alone = kura.ingestor.ingest([public], groups=("everyone",), delete_missing=False)
    assert "outside the ingested folder" in failures(alone)["board-link.md"]
    # and kura's state is refused even when named on purpose
    named = kura.ingestor.ingest([kura.settings.users_path], groups=("everyone",))
    assert "KURA_HOME" in failures(named)["users.json"] and not named.added


def test_a_subfolder_or_one_file_ingested_alone_keeps_the_acl_above_it(kura, tmp_path):
    kb = library(tmp_path)
    kura.ingestor.ingest([kb], groups=("everyone",))
    for path in (kb / "exec" / "sub", kb / "exec" / "sub" / "plans.md"):
        report = kura.ingestor.ingest([path], groups=("everyone",))
        assert (report.regrouped, report.held) == (0, []), path
        assert {r.groups for r in kura.manifest.all() if "/exec/" in r.path} == {("exec",)}
        assert "KESTREL" not in readable(kura, ("everyone",))


def test_a_configured_library_root_applies_to_the_very_first_ingest(settings, embedder, tmp_path):
    from app.service import Kura

    kb = library(tmp_path)
    fresh = Kura(settings.model_copy(update={"library_roots": [kb]}))
    fresh.__dict__["embedder"] = embedder
    try:
        fresh.ingestor.ingest([kb / "exec" / "sub"], groups=("everyone",))
        assert [r.groups for r in fresh.manifest.all()] == [("exec",)]
    finally:
        fresh.close()


def test_other_groups_on_a_resync_never_widen_a_document_silently(kura, tmp_path):
    kb = library(tmp_path)
    kura.ingestor.ingest([kb / "public"], groups=("staff",))
    report = kura.ingestor.ingest([kb / "public"], groups=("staff", "contractors"))
    assert report.held == [Held(str(kb / "public" / "cafeteria.md"), ["staff"], ["staff", "contractors"])]
    assert "miso" not in readable(kura, ("contractors",), "cafeteria miso soup")
    report = kura.ingestor.ingest([kb / "public"], groups=("staff", "contractors"), allow_widening=True)
    assert report.regrouped == 1 and "miso" in readable(kura, ("contractors",), "cafeteria miso soup")


def test_a_resync_leaves_alone_what_the_caller_may_not_read(kura, tmp_path):
    kb = library(tmp_path)
    kura.ingestor.ingest([kb], groups=("everyone",))
    (kb / "exec" / ".kura-acl").unlink()  # an admin outside exec tries to open the board documents up
    (kb / "exec" / "sub" / "plans.md").unlink()
    report = kura.ingestor.ingest([kb], groups=("everyone",), allow_widening=True, reader=("staff", "everyone"))
    assert {Path(s.path).name for s in report.skipped} == {"board.md"}
    assert report.deleted == 0, "nor delete it"
    assert "KESTREL" not in readable(kura, ("everyone",)) and "KESTREL" in readable(kura, ("exec",))


def test_a_tightened_acl_applies_even_when_the_new_version_fails_to_parse(kura, tmp_path):
    from fpdf import FPDF

    kb = library(tmp_path)
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="The PELICAN-2209 budget is 40 million yen.")
    pdf.output(str(kb / "public" / "budget.pdf"))
    kura.ingestor.ingest([kb], groups=("everyone",))
    assert "PELICAN" in readable(kura, ("everyone",), "PELICAN-2209 budget")

    (kb / "public" / ".kura-acl").write_text("finance\n")
    (kb / "public" / "budget.pdf").write_bytes(b"%PDF-1.4 this is no longer a PDF")
    report = kura.ingestor.ingest([kb], groups=("everyone",))
    assert "budget.pdf" in failures(report)
    assert "PELICAN" not in readable(kura, ("everyone",), "PELICAN-2209 budget"), "old chunks, new groups"
    assert "PELICAN" in readable(kura, ("finance",), "PELICAN-2209 budget"), "kept, nothing lost"


@pytest.mark.parametrize("breakage", ["dangling link", "folder", "not UTF-8", "unreadable"])
def test_an_acl_that_cannot_be_read_fails_closed_for_its_folder(kura, tmp_path, monkeypatch, breakage):
    kb = library(tmp_path)
    kura.ingestor.ingest([kb], groups=("everyone",))
    acl = kb / "exec" / ".kura-acl"
    acl.unlink()
    if breakage == "dangling link":
        acl.symlink_to(tmp_path / "missing-acl")
    elif breakage == "folder":
        acl.mkdir()
    elif breakage == "not UTF-8":
        acl.write_bytes("経営会議".encode("cp932"))
    else:  # root reads everything: the refusal a normal user gets is injected
        acl.write_text("exec\n")
        real_read = Path.read_bytes
        monkeypatch.setattr(
            Path,
            "read_bytes",
            lambda self: (
                (_ for _ in ()).throw(PermissionError(13, "denied")) if self.name == ".kura-acl" else real_read(self)
            ),
        )
    report = kura.ingestor.ingest([kb], groups=("everyone",), allow_widening=True)
    failed = failures(report)
    assert set(failed) == {"board.md", "plans.md"} and all(".kura-acl" in reason for reason in failed.values())
    assert "KESTREL" not in readable(kura, ("everyone",)) and "KESTREL" not in readable(kura, ("exec",)), "hidden"
    assert "miso" in readable(kura, ("everyone",), "cafeteria miso soup"), "other folders go on"

    monkeypatch.undo()
    shutil.rmtree(acl) if acl.is_dir() and not acl.is_symlink() else acl.unlink()
    acl.write_text("exec\n")
    kura.ingestor.ingest([kb], groups=("everyone",))
    assert "KESTREL" in readable(kura, ("exec",)) and "KESTREL" not in readable(kura, ("everyone",))


def test_an_acl_that_names_no_group_is_warned_about(kura, tmp_path):
    kb = library(tmp_path)
    (kb / "public" / ".kura-acl").write_text("# nobody yet\n")
    report = kura.ingestor.ingest([kb], groups=("everyone",))
    assert report.warnings == [
        AclWarning(
            str(kb / "public" / ".kura-acl"),
            "this access rules file names no group: nobody can read the documents below it",
        )
    ]
    assert "miso" not in readable(kura, ("everyone",), "cafeteria miso soup")
