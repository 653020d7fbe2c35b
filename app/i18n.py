"""The app's words in English and Japanese. Every message a user sees is here, keyed, with both languages."""

from __future__ import annotations

LANGUAGES = {"en": "English", "ja": "日本語"}

MESSAGES: dict[str, tuple[str, str]] = {
    # navigation and sign-in
    "page_ask": ("Ask", "質問する"),
    "page_draft": ("Draft a reply", "返信の下書き"),
    "page_library": ("Library", "ライブラリ"),
    "page_status": ("Status", "ステータス"),
    "page_evaluate": ("Evaluate", "評価"),
    "page_audit": ("Audit log", "監査ログ"),
    "tagline": (
        "Private answers from your company's documents. Nothing leaves this machine.",
        "社内文書からの回答。データはこのマシンの外に出ません。",
    ),
    "signed_in_as": ("Signed in as {name}", "{name} としてログイン中"),
    "groups_label": ("Groups: {groups}", "グループ: {groups}"),
    "foreign_host": (
        "This personal copy of kura (no sign-in) only answers pages opened as http://localhost. "
        "Open it from this machine's own address, or add users and turn off KURA_SINGLE_USER to share it.",
        "このサインイン不要の個人用 kura は http://localhost で開いたページにだけ応答します。"
        "このマシン上の localhost から開くか、共有する場合はユーザーを追加して KURA_SINGLE_USER を無効にしてください。",
    ),
    "sign_in": ("Sign in", "ログイン"),
    "sign_in_sso": ("Sign in with your company account", "会社のアカウントでログイン"),
    "sign_out": ("Sign out", "ログアウト"),
    "user_name": ("User name", "ユーザー名"),
    "password": ("Password", "パスワード"),
    "login_failed": ("Wrong user name or password.", "ユーザー名またはパスワードが違います。"),
    "login_throttled": (
        "Too many attempts. Wait {seconds} s and try again.",
        "試行回数が多すぎます。{seconds} 秒待ってから再度お試しください。",
    ),
    "no_users": (
        "No users exist yet. An administrator adds one with `kura users add NAME --groups G --admin`, "
        "or starts a personal copy with KURA_SINGLE_USER=1 (`make run` does).",
        "ユーザーがまだいません。管理者が `kura users add NAME --groups G --admin` で追加するか、"
        "個人利用なら KURA_SINGLE_USER=1 で起動してください（`make run` はそうします）。",
    ),
    "language": ("Language", "言語"),
    "admins_only": ("Only administrators can open this page.", "このページは管理者のみ利用できます。"),
    "store_unavailable": ("The document index cannot be opened: {error}", "文書インデックスを開けません: {error}"),
    # ask
    "ask_placeholder": ("Ask about your documents…", "文書について質問してください…"),
    "demo_model": (
        "Answers are written by a small local model and can be wrong: each sentence is checked against "
        "your documents, and the quoted sources are what to trust.",
        "回答は小さなローカルモデルが書いたもので、誤っている可能性があります。各文は文書と照合されます。"
        "信頼すべきは引用元の文章です。",
    ),
    "not_found": ("Not found in the documents you can access.", "アクセスできる文書の中には見つかりませんでした。"),
    "model_failed": ("The model could not answer: {error}", "モデルが回答できませんでした: {error}"),
    "model_unavailable": (
        "{error} Showing the best passages instead of a written answer.",
        "{error} 回答文の代わりに、最も関連する箇所を表示します。",
    ),
    "sources_heading": (
        "Sources — the quoted passages are the evidence; check them before relying on the answer.",
        "出典 — 引用された文章が根拠です。回答を使う前に確認してください。",
    ),
    "searched_for": ("Searched for: {query}", "検索した内容: {query}"),
    "page_n": ("page {page}", "{page} ページ"),
    "download_original": ("Download the original", "元のファイルをダウンロード"),
    "original_missing": ("The original file is not available: {error}", "元のファイルを取得できません: {error}"),
    "copy_answer": ("Copy the answer", "回答をコピー"),
    "feedback_comment": ("What was wrong or missing? (optional)", "足りない点や誤りは？（任意）"),
    "feedback_thanks": (
        "Thank you, your feedback was recorded.",
        "フィードバックを記録しました。ありがとうございます。",
    ),
    "rate_limited": (
        "Request limit reached ({limit} per minute). Try again in {seconds} s.",
        "1 分あたり {limit} 件の上限に達しました。{seconds} 秒後に再度お試しください。",
    ),
    "new_chat": ("New conversation", "新しい会話"),
    "answer_mode": ("Answers", "回答の形式"),
    "answer_mode_generated": ("Written by the model", "モデルが作成"),
    "answer_mode_quotes": ("Quotes only", "引用のみ"),
    "search_alone": ("Search this question on its own", "この質問だけで検索する"),
    "stop": ("Stop", "停止"),
    "stopping": ("Stopping the answer…", "回答を停止しています…"),
    "stage_searching": ("Searching your documents…", "文書を検索しています…"),
    "stage_writing": (
        "Found {passages} passage(s) · writing the answer…",
        "{passages} 件の箇所が見つかりました · 回答を作成中…",
    ),
    "stage_checking": ("Checking each sentence against the sources…", "各文を出典と照合しています…"),
    "manage_conversation": ("Rename or delete this conversation", "この会話の名前の変更・削除"),
    "conversation_title": ("Title", "タイトル"),
    "confirm_delete_conversation": ("Yes, delete this conversation", "この会話を削除します"),
    "delete_conversation": ("Delete conversation", "会話を削除"),
    "conversation_missing": (
        "This conversation does not exist (it may have been deleted or expired). Ask a question to start a new one.",
        "この会話は存在しません（削除されたか期限切れの可能性があります）。質問すると新しい会話が始まります。",
    ),
    # draft
    "ticket_subject": ("Subject", "件名"),
    "ticket_body": ("Ticket text", "問い合わせ本文"),
    "ticket_customer": ("Customer name (optional)", "顧客名（任意）"),
    "ticket_product": ("Product (optional)", "製品（任意）"),
    "ticket_file": ("…or upload a ticket (.txt or .eml)", "…または問い合わせファイルをアップロード（.txt / .eml）"),
    "tone": ("Tone", "トーン"),
    "effort": ("Reasoning effort", "推論の深さ"),
    "make_draft": ("Draft a reply", "下書きを作成"),
    "ticket_unreadable": (
        "The ticket file cannot be read: {error}. Paste the ticket's text instead.",
        "問い合わせファイルを読み込めません: {error}。問い合わせの本文を貼り付けてください。",
    ),
    "ticket_empty": (
        "Paste the ticket text or upload a ticket file first.",
        "問い合わせ本文を貼り付けるか、ファイルをアップロードしてください。",
    ),
    "draft_reply": ("Reply (edit before approving)", "返信（承認前に編集してください）"),
    "internal_notes": ("Internal notes for the agent", "担当者向けメモ"),
    "approve": ("Approve this reply", "この返信を承認"),
    "approved_ingested": (
        "Approved and stored. It is now knowledge for: {groups}.",
        "承認して保存しました。次のグループのナレッジになりました: {groups}",
    ),
    "approved_stored": (
        "Approved and stored. Not added to the knowledge base: {reason}",
        "承認して保存しました。ナレッジには追加していません: {reason}",
    ),
    "needs_reviewer": (
        "only a reviewer's approval makes a reply shared knowledge; ask a reviewer to approve it",
        "返信を共有ナレッジにできるのはレビュー担当者の承認のみです。レビュー担当者に承認を依頼してください",
    ),
    "model_queue": (
        "Waiting for the model: {ahead} question(s) ahead of yours.",
        "モデルの順番待ちです。あなたの前に {ahead} 件の質問があります。",
    ),
    "claims_supported": (
        "{supported} of {total} sentences supported by your documents",
        "{total} 文のうち {supported} 文が文書で裏付けられています",
    ),
    "claim_unsupported": (
        "Not found in your documents: “{text}” — {reason}",
        "文書で確認できません: 「{text}」 — {reason}",
    ),
    "confirm_unsupported": (
        "I have checked the statements the sources do not support",
        "文書で裏付けられない記述を確認しました",
    ),
    "no_common_group": (
        "its sources have no group in common, so nobody could safely read it.",
        "出典に共通のグループがなく、安全に閲覧できる人がいないためです。",
    ),
    "ingest_disabled": (
        "adding approved replies is turned off (KURA_INGEST_APPROVED_REPLIES).",
        "承認済み返信の取り込みが無効です（KURA_INGEST_APPROVED_REPLIES）。",
    ),
    "draft_abstained": (
        "No passage in your documents answers this ticket: the draft is a holding reply.",
        "この問い合わせに答える文書が見つからないため、一次返信の下書きです。",
    ),
    # library
    "upload_files": ("Upload documents", "文書をアップロード"),
    "upload_groups": ("Who may read them (groups, comma-separated)", "閲覧できるグループ（カンマ区切り）"),
    "ingest_button": ("Ingest", "取り込む"),
    "resync_folder": ("Re-sync a folder on the server", "サーバー上のフォルダを再同期"),
    "folder_path": ("Folder path", "フォルダのパス"),
    "resync_button": ("Re-sync", "再同期"),
    "ingesting": (
        "Ingesting {done}/{total}: {name} · {chunks} passages · {rate:.1f} passages/s · ETA {eta}",
        "取り込み中 {done}/{total}: {name} · {chunks} パッセージ · 毎秒 {rate:.1f} · 残り {eta}",
    ),
    "ingest_done": (
        "{added} added, {updated} updated, {unchanged} unchanged, {deleted} removed, {failed} failed "
        "({chunks} passages).",
        "追加 {added}・更新 {updated}・変更なし {unchanged}・削除 {deleted}・失敗 {failed}（{chunks} 箇所）。",
    ),
    "ingest_failed_file": ("{path}: {error}", "{path}: {error}"),
    "ingest_held": (
        "{path}: kept readable by {groups} only, not {wanted}. Tick “allow wider access” and re-sync "
        "to apply the wider groups.",
        "{path}: 閲覧範囲を {groups} のままにしました（{wanted} には広げていません）。広げるには"
        "「閲覧範囲の拡大を許可」にチェックして再同期してください。",
    ),
    "ingest_skipped": (
        "{path}: left unchanged, because you may not read this document.",
        "{path}: あなたが閲覧できない文書のため、変更しませんでした。",
    ),
    "ingest_acl_warning": (
        "{path} names no group: nobody can read the documents below it.",
        "{path} にグループが書かれていないため、その下の文書は誰も閲覧できません。",
    ),
    "allow_widening": (
        "Allow wider access (documents may become readable by more groups; audited)",
        "閲覧範囲の拡大を許可（より多くのグループが閲覧できるようになります。監査ログに記録）",
    ),
    "documents": ("Documents", "文書一覧"),
    "no_documents": ("No documents yet.", "文書はまだありません。"),
    "delete_document": ("Delete a document from the index", "文書をインデックスから削除"),
    "delete_button": ("Delete", "削除"),
    "deleted": ("Deleted {name}.", "{name} を削除しました。"),
    "delete_resync_note": (
        "Files in a synced folder come back on the next re-sync unless removed there.",
        "同期フォルダ内のファイルは、元のフォルダから削除しない限り次の再同期で戻ります。",
    ),
    "upload_legacy": (
        "{name}: the {suffix} format cannot be read. Open it in Office or LibreOffice, save it as {instead}, and "
        "upload that.",
        "{name}: {suffix} 形式は読み込めません。Office または LibreOffice で開き、{instead} 形式で保存してから"
        "アップロードしてください。",
    ),
    "upload_accepts": ("Accepted: {types}", "対応形式: {types}"),
    "delete_choose": ("Choose a document…", "文書を選んでください…"),
    "delete_confirm": (
        "Yes, delete {name} from the index (an uploaded file is deleted too)",
        "{name} をインデックスから削除します（アップロードされたファイルも削除されます）",
    ),
    "upload_type": (
        "{name}: this file type cannot be ingested (allowed: {allowed}).",
        "{name}: このファイル形式は取り込めません（対応形式: {allowed}）。",
    ),
    "upload_size": (
        "{name}: larger than the {limit} MB upload limit.",
        "{name}: アップロード上限 {limit} MB を超えています。",
    ),
    "upload_empty": ("{name}: the file is empty.", "{name}: ファイルが空です。"),
    "upload_corrupt": (
        "{name}: the file is damaged (not a valid Office/EPUB archive).",
        "{name}: ファイルが壊れています（Office/EPUB 形式として不正）。",
    ),
    "upload_bomb": (
        "{name}: it would unpack to more than {limit} MB; refused as a possible zip bomb.",
        "{name}: 展開後 {limit} MB を超えるため、zip 爆弾の可能性があり拒否しました。",
    ),
    "folder_missing": ("No folder at {path} on the server.", "サーバー上に {path} というフォルダはありません。"),
    # status
    "status_component": ("Component", "コンポーネント"),
    "status_state": ("State", "状態"),
    "status_detail": ("Detail", "詳細"),
    "status_settings": ("Settings (secrets masked)", "設定（秘密情報は伏せています）"),
    "status_part_store": ("Vector store (Qdrant)", "ベクトルストア（Qdrant）"),
    "status_part_embedder": ("Embedding model", "埋め込みモデル"),
    "status_part_llm": ("Language model", "言語モデル"),
    "status_part_index": ("Index consistency", "インデックスの整合性"),
    "status_part_vectors": ("Vectors of the current embedding model", "現在の埋め込みモデルのベクトル"),
    "status_part_drafts": ("Language model for drafts", "返信下書き用の言語モデル"),
    "status_part_second_stage": ("Second stage (re-ordering)", "第2段階（並べ替え）"),
    "status_use": ("Use", "用途"),
    "status_model": ("Goes to", "使うモデル"),
    "status_use_answers": ("Answers to questions", "質問への回答"),
    "status_use_drafts": ("Ticket reply drafts", "チケット返信の下書き"),
    "status_ok": ("answers", "応答あり"),
    "status_down": ("not answering", "応答なし"),
    "status_chunks": (
        "Passages in the index: {count} · Documents: {documents} · Version {version}",
        "インデックスの箇所数: {count} ・文書数: {documents} ・バージョン {version}",
    ),
    # evaluate
    "gold_file": ("Gold questions (JSON lines)", "評価用の質問（JSON Lines）"),
    "run_eval": ("Run the evaluation", "評価を実行"),
    "eval_compare": ("Change since the last run ({when})", "前回（{when}）からの変化"),
    "eval_first": ("First run: nothing to compare with yet.", "初回の実行のため、比較対象はありません。"),
    "eval_regression": (
        "Regression: {metric} fell from {before} to {after}.",
        "後退: {metric} が {before} から {after} に低下しました。",
    ),
    "finetune_title": ("Base model and adapter on held-out tickets", "保留チケットでのベースモデルとアダプターの比較"),
    "finetune_none": (
        "No comparison yet: run `kura finetune eval DATASET --adapter NAME` (docs/finetune.md).",
        "比較結果はまだありません。`kura finetune eval DATASET --adapter NAME` を実行してください（docs/finetune.md）。",
    ),
    "finetune_caption": (
        "The latest `kura finetune eval`, on {dataset}.",
        "最新の `kura finetune eval`（{dataset}）。",
    ),
    "finetune_model": ("Model", "モデル"),
    "finetune_tickets": ("Tickets", "チケット数"),
    "finetune_recall": ("Recall of the approved reply", "承認済み返信の再現率"),
    "finetune_supported": ("Sentences supported", "根拠のある文の割合"),
    "finetune_words": ("Words", "語数"),
    "finetune_failed": ("Failed", "失敗"),
    "eval_bad_file": ("The gold file is not valid: {error}", "評価ファイルが不正です: {error}"),
    # audit
    "audit_user": ("User", "ユーザー"),
    "audit_at": ("When (UTC)", "日時（UTC）"),
    "audit_via": ("Through", "経由"),
    "audit_about": ("About", "対象"),
    "audit_details": ("Details", "詳細"),
    "audit_action": ("Action", "操作"),
    "audit_empty": ("No entries.", "記録はありません。"),
    "any": ("(any)", "（すべて）"),
}


# llm/notes.py's notes (answer warnings, draft notes, why a sentence is unsupported) in Japanese; their English is
# the Note itself. Same keys, same placeholders (tests/app/test_i18n.py).
NOTES_JA: dict[str, str] = {
    "passages_dropped": "関連する {count} 件の箇所がモデルの文脈に収まりませんでした（KURA_LLM_CONTEXT_TOKENS={limit}）。",
    "sentences_removed": "モデルの回答のうち {count} 文は文書で裏付けられないため削除しました（KURA_UNSUPPORTED=drop）。",
    "answer_replaced": "モデルの回答はどの文も文書で裏付けられないため、文書の原文を回答として示します（KURA_UNSUPPORTED=drop）。",
    "awaiting_reembedding": "{count} 件の箇所はまだ検索されません。埋め込みモデル（KURA_EMBEDDER）が変わり、"
    "再埋め込みを待っています。フォルダに `kura ingest` を実行する（またはライブラリで再同期する）と、もう一度質問できます。",
    "no_answer_text": "見つかった箇所から回答文を作れませんでした。下の出典がすべてです。",
    "reasoning_only": "モデルは推論しましたが回答文を返しませんでした（gpt-oss/vLLM の既知の不具合: `content: null`）。"
    "下の出典は有効です。もう一度質問するか、KURA_LLM_MAX_TOKENS を増やしてください。",
    "empty_answer": "モデルが空の回答を返しました。下の出典は有効です。もう一度質問してください。",
    "cut_off": "回答がトークン上限で途切れました（KURA_LLM_MAX_TOKENS={limit}）。",
    "repetition_stopped": "モデルが同じ内容を繰り返し始めたため停止しました。それまでの回答は残しています。",
    "stopped": "停止しました。回答は途中までで、各文は文書と照合されていません。",
    "no_longer_readable": "この回答は現在あなたが閲覧できない文書を引用しているため、表示しません。",
    "no_customer_name": "問い合わせに顧客名がないため、一般的な挨拶にしています。",
    "no_passage_for_ticket": "この問い合わせに答えるナレッジベースの箇所がありません。返信前に調査するかエスカレーションしてください。",
    "drafted_without_model": "言語モデルなしで下書きしました。本文はナレッジベースの最適な箇所の引用です。"
    "言い換え、該当しない部分を削除してください。",
    "holding_reply": "モデルが失敗しました（{error}）。下の返信は一次返信です。",
    "not_in_sources": "出典にない記述: 「{text}」— {reason}。送信前に確認するか削除してください。",
    "source_line": "出典 [{n}]: {name} — {where}",
    "unanswered_question": "問い合わせのこの部分に答える出典がありません: 「{question}」。調査するかエスカレーションしてください。",
    "placeholder_removed": "問い合わせから埋められないプレースホルダー {placeholder} を含む文を削除しました。",
    "placeholder_left": "返信にプレースホルダー {placeholder} が残っています。記入するか削除してください。",
    "ticket_echo_removed": "顧客の問い合わせを繰り返していた {count} 文を削除しました。",
    "reason_not_stated": "出典に {claimed} という記載はありません",
    "reason_says_instead": "出典では {stated} であり、{claimed} ではありません",
    "reason_not_found": "文書に見つかりません",
    "reason_opposite": "出典は逆のことを述べています",
    "reason_not_excluded": "出典はこれが対象外だとは述べていません",
    "reason_roles": "出典はここで {roles} に言及していません",
    "reason_names": "出典は {names} に言及していません",
    "reason_period": "出典では {stated} ごとであり、{claimed} ごとではありません",
    "reason_absolute": "出典に「{word}」とは書かれていません",
}


def localized(said: object, language: str) -> str:
    """Text from the answer path in the reader's language: a Note (with its parameters, which may be Notes too)
    when there is a translation, else as it is."""
    key = getattr(said, "key", None)
    if language == "ja" and key in NOTES_JA:
        params = {name: localized(value, language) for name, value in said.params.items()}
        return NOTES_JA[key].format(**params)
    return str(said)


def text(key: str, language: str, **params) -> str:
    english, japanese = MESSAGES[key]
    return (japanese if language == "ja" else english).format(**params)


def language_of(accept: str | None) -> str:
    """A browser locale ('ja-JP', 'en-US') → 'ja' or 'en'."""
    return "ja" if (accept or "").lower().startswith("ja") else "en"
