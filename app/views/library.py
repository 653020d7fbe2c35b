"""Library (admins): upload and ingest files with live progress, re-sync a server folder, list documents with
their status, passages, groups and errors, and delete them."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.ui import caller, get_kura, require_admin, t
from ingest import IngestProgress, IngestReport, formats

require_admin()
kura = get_kura()
settings = kura.settings


def progress_bar():
    """A progress callback drawing into a bar on the page, and the bar (to clear when done)."""
    bar = st.progress(0.0)

    def progress(now: IngestProgress) -> None:
        text = t(
            "ingesting",
            done=now.files_done,
            total=now.files_total,
            name=Path(now.current).name,
            chunks=now.chunks,
            rate=now.chunks_per_s,
            eta=now.eta_clock,
        )
        bar.progress(now.files_done / now.files_total if now.files_total else 1.0, text=text if now.current else None)

    return bar, progress


def show_report(report: IngestReport) -> None:
    st.success(
        t(
            "ingest_done",
            added=report.added,
            updated=report.updated,
            unchanged=report.unchanged,
            deleted=report.deleted,
            failed=len(report.failed),
            chunks=report.chunks,
        )
    )
    for failure in report.failed:
        st.error(t("ingest_failed_file", path=Path(failure.path).name, error=failure.error))
    for held in report.held:
        st.warning(
            t(
                "ingest_held",
                path=Path(held.path).name,
                groups=", ".join(held.groups) or "—",
                wanted=", ".join(held.wanted),
            )
        )
    for skipped in report.skipped:
        st.warning(t("ingest_skipped", path=Path(skipped.path).name))
    for warning in report.warnings:
        st.warning(t("ingest_acl_warning", path=warning.path))


def upload(files, groups: tuple[str, ...]) -> None:
    bar, progress = progress_bar()
    result = kura.upload(caller(), [(file.name, file.getvalue()) for file in files], groups, progress)
    bar.empty()
    for rejected in result.rejected:
        st.error(t(rejected.key, **rejected.params))
    if result.report:
        show_report(result.report)


def resync(folder: str, groups: tuple[str, ...], allow_widening: bool) -> None:
    bar, progress = progress_bar()
    try:
        report = kura.resync(caller(), Path(folder), groups, allow_widening=allow_widening, progress=progress)
    except FileNotFoundError:
        st.error(t("folder_missing", path=folder))
        return
    finally:
        bar.empty()
    show_report(report)


st.header(t("page_library"))
if "library_flash" in st.session_state:
    st.success(st.session_state.pop("library_flash"))
default_groups = ", ".join(settings.default_groups)
with st.form("upload", clear_on_submit=True):
    files = st.file_uploader(t("upload_files"), accept_multiple_files=True, key="upload_files")
    st.caption(t("upload_accepts", types=" ".join(formats.supported())))
    groups = st.text_input(t("upload_groups"), value=default_groups, key="upload_groups")
    if st.form_submit_button(t("ingest_button")) and files:
        upload(files, kura.groups(groups))

with st.expander(t("resync_folder")):
    folder = st.text_input(t("folder_path"), key="resync_path")
    resync_groups = st.text_input(t("upload_groups"), value=default_groups, key="resync_groups")
    widen = st.checkbox(t("allow_widening"), key="resync_widen")
    if st.button(t("resync_button"), key="resync") and folder:
        resync(folder, kura.groups(resync_groups), widen)

st.subheader(t("documents"))
records = kura.documents(caller())
if not records:
    st.caption(t("no_documents"))
else:
    shown = kura.shown_paths(r.path for r in records)
    st.dataframe(
        [
            {
                "title": r.title,
                "file": shown[r.path],
                "status": r.status,
                "passages": r.chunks,
                "groups": ", ".join(r.groups),
                "error": r.error or "",
            }
            for r in records
        ],
        width="stretch",
        hide_index=True,
    )
    by_name = {shown[r.path]: r for r in records}
    chosen = st.selectbox(t("delete_document"), sorted(by_name), index=None, placeholder=t("delete_choose"),
                          key="delete_path")  # fmt: skip
    st.caption(t("delete_resync_note"))
    sure = bool(chosen) and st.checkbox(t("delete_confirm", name=chosen or ""), key=f"delete_sure_{chosen}")
    if st.button(t("delete_button"), key="delete", disabled=not sure):
        record = by_name[chosen]
        kura.delete_document(caller(), record.doc_id)
        st.session_state["library_flash"] = t("deleted", name=Path(record.path).name)
        st.rerun()
