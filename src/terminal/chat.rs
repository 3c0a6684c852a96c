//! The terminal chat loop: input lines become events for the same engine the
//! bot runs; replies go through the same outbox and are "delivered" by
//! printing them when their chat is the one on screen.

use super::input::{parse_line, Line};
use super::render::{button_lines, buttons, html_to_text, inline_buttons, ShownButton};
use crate::clock::SharedClock;
use crate::conversation::{ChatRef, Event, Incoming, UpdateHandler};
use crate::i18n::{t, Lang};
use crate::outgoing::{Keyboard, OutBody, ShareRequest};
use crate::storage::outbox::{self, OutboxStatus};
use crate::storage::{self, Storage};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

/// Telegram ids the terminal uses for the resident.
pub const RESIDENT_ID: i64 = 10_001;

/// One person at the terminal.
#[derive(Debug, Clone)]
struct Identity {
    user_id: i64,
    chat_id: i64,
    name: String,
    lang: Lang,
}

/// What the chat loop needs.
pub struct TerminalChat<W: Write> {
    storage: Storage,
    handler: Arc<dyn UpdateHandler>,
    clock: SharedClock,
    out: W,
    resident: Identity,
    current: Identity,
    /// Chats that already linked their demo mediator account.
    linked: HashMap<i64, bool>,
    /// Latest message with buttons per chat: its id and buttons.
    buttons: HashMap<i64, (i32, Vec<ShownButton>)>,
    next_message_id: HashMap<i64, i32>,
    next_callback: u64,
    /// Whether input lines are echoed (script mode), so a transcript reads
    /// like a conversation.
    echo: bool,
}

/// Why the chat stopped early.
#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    /// The engine or the database failed.
    #[error("engine error: {0}")]
    Engine(String),
    /// Writing to the terminal failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl<W: Write> TerminalChat<W> {
    /// A chat as the resident, in `lang`.
    pub fn new(
        storage: Storage,
        handler: Arc<dyn UpdateHandler>,
        clock: SharedClock,
        lang: Lang,
        out: W,
        echo: bool,
    ) -> Self {
        let resident = Identity {
            user_id: RESIDENT_ID,
            chat_id: RESIDENT_ID,
            name: t(lang, "terminal-resident", &[]),
            lang,
        };
        Self {
            storage,
            handler,
            clock,
            out,
            current: resident.clone(),
            resident,
            linked: HashMap::new(),
            buttons: HashMap::new(),
            next_message_id: HashMap::new(),
            next_callback: 1,
            echo,
        }
    }

    /// Prints the banner.
    pub fn banner(&mut self) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        writeln!(self.out, "{}", t(lang, "terminal-banner", &[]))?;
        Ok(())
    }

    /// Handles one input line; `Ok(false)` means the person left.
    pub async fn line(&mut self, line: &str) -> Result<bool, ChatError> {
        if self.echo && !line.trim().is_empty() {
            writeln!(self.out, "{} > {}", self.current.name, line.trim())?;
        }
        let has_buttons = self
            .buttons
            .get(&self.current.chat_id)
            .is_some_and(|(_, b)| !b.is_empty());
        let lang = self.resident.lang;
        match parse_line(line, has_buttons) {
            Line::Nothing => {}
            Line::Quit => return Ok(false),
            Line::Help => writeln!(self.out, "{}", t(lang, "terminal-help", &[]))?,
            Line::Invalid(hint) => writeln!(
                self.out,
                "{}",
                t(lang, "terminal-invalid", &[("hint", hint.into())])
            )?,
            Line::AsResident => {
                self.current = self.resident.clone();
                self.switched()?;
                self.deliver().await?;
            }
            Line::Mediators => self.list_mediators().await?,
            Line::AsMediator(name) => self.become_mediator(&name).await?,
            Line::Press(n) => self.press(n).await?,
            Line::Send(event) => self.send(event, None).await?,
        }
        Ok(true)
    }

    fn switched(&mut self) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        writeln!(
            self.out,
            "\n{}",
            t(
                lang,
                "terminal-now",
                &[("who", self.current.name.clone().into())]
            )
        )?;
        Ok(())
    }

    async fn list_mediators(&mut self) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        let list = self.demo_mediators().await?;
        for (_, name, committee) in list {
            writeln!(
                self.out,
                "  {}",
                t(
                    lang,
                    "terminal-mediator-line",
                    &[("name", name.into()), ("committee", committee.into())]
                )
            )?;
        }
        Ok(())
    }

    async fn demo_mediators(&self) -> Result<Vec<(i64, String, String)>, ChatError> {
        let mut conn = self.storage.acquire().await.map_err(engine)?;
        let mediators = storage::mediators::list(&mut conn, None)
            .await
            .map_err(engine)?;
        let mut out = Vec::new();
        for m in mediators {
            let committee = storage::committees::get(&mut conn, m.committee_id)
                .await
                .map_err(engine)?
                .map(|c| c.name)
                .unwrap_or_default();
            out.push((m.id, m.name, committee));
        }
        Ok(out)
    }

    async fn become_mediator(&mut self, wanted: &str) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        let mediators = self.demo_mediators().await?;
        let chosen = if wanted.is_empty() {
            // The mediator of the committee holding the resident's latest case.
            let mut conn = self.storage.acquire().await.map_err(engine)?;
            let committee = storage::terminal::latest_case_committee(&mut conn, RESIDENT_ID)
                .await
                .map_err(engine)?;
            drop(conn);
            let mut conn = self.storage.acquire().await.map_err(engine)?;
            let mut found = None;
            if let Some(cid) = committee {
                let first = storage::mediators::list(&mut conn, Some(cid))
                    .await
                    .map_err(engine)?
                    .into_iter()
                    .next();
                found = first.and_then(|m| mediators.iter().find(|x| x.0 == m.id).cloned());
            }
            found
        } else {
            mediators
                .iter()
                .find(|(_, n, c)| n.contains(wanted) || c.contains(wanted))
                .cloned()
        };
        let Some((id, name, _)) = chosen else {
            writeln!(self.out, "{}", t(lang, "terminal-no-mediator", &[]))?;
            return Ok(());
        };
        let user_id = storage::terminal::mediator_user_id(id);
        self.current = Identity {
            user_id,
            chat_id: user_id,
            name,
            lang,
        };
        self.switched()?;
        if !self.linked.get(&user_id).copied().unwrap_or(false) {
            self.link_mediator(id).await?;
        }
        self.deliver().await
    }

    /// Links the demo mediator's chat the way a real one is linked: by
    /// opening a fresh invite link (`/start <code>`).
    async fn link_mediator(&mut self, mediator_id: i64) -> Result<(), ChatError> {
        let mut conn = self.storage.acquire().await.map_err(engine)?;
        let already = storage::mediators::get(&mut conn, mediator_id)
            .await
            .map_err(engine)?
            .is_some_and(|m| m.linked_at.is_some());
        drop(conn);
        if !already {
            let code = self.new_invite(mediator_id).await?;
            if self.echo {
                writeln!(self.out, "{} > /start {}", self.current.name, code)?;
            }
            self.send(
                Event::Command {
                    name: "start".into(),
                    args: code,
                },
                None,
            )
            .await?;
        }
        self.linked.insert(self.current.chat_id, true);
        Ok(())
    }

    async fn press(&mut self, n: usize) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        let Some((message_id, list)) = self.buttons.get(&self.current.chat_id).cloned() else {
            return Ok(());
        };
        let Some(button) = list.get(n - 1).cloned() else {
            writeln!(
                self.out,
                "{}",
                t(
                    lang,
                    "terminal-no-such-button",
                    &[("count", list.len().into())]
                )
            )?;
            return Ok(());
        };
        match button {
            ShownButton::Inline { data, .. } => {
                let callback_id = format!("term-{}", self.next_callback);
                self.next_callback += 1;
                self.send(Event::Button { callback_id, data }, Some(message_id))
                    .await
            }
            ShownButton::Reply {
                request: Some(ShareRequest::Location),
                ..
            } => {
                writeln!(self.out, "{}", t(lang, "terminal-use-location", &[]))?;
                Ok(())
            }
            ShownButton::Reply {
                request: Some(ShareRequest::Contact),
                ..
            } => {
                writeln!(self.out, "{}", t(lang, "terminal-use-contact", &[]))?;
                Ok(())
            }
            ShownButton::Reply {
                label,
                request: None,
            } => self.send(Event::Text { text: label }, None).await,
        }
    }

    /// Sends one event through the engine and the outbox, then shows what
    /// arrived for the chat on screen.
    async fn send(&mut self, event: Event, button_message: Option<i32>) -> Result<(), ChatError> {
        let who = self.current.clone();
        self.dispatch(&who, event, button_message).await?;
        self.deliver().await
    }

    /// Hands one event from `who` to the engine and queues the replies in
    /// the same transaction, as the Telegram applier does.
    async fn dispatch(
        &mut self,
        who: &Identity,
        mut event: Event,
        button_message: Option<i32>,
    ) -> Result<(), ChatError> {
        let now = self.clock.now_ms();
        let message_id = match button_message {
            Some(id) => id,
            None => self.take_message_id(who.chat_id),
        };
        match &mut event {
            Event::Contact {
                contact_user_id, ..
            } => *contact_user_id = Some(who.user_id),
            Event::Attachment {
                file_id,
                file_unique_id,
                ..
            } => {
                *file_id = format!("terminal-file-{message_id}");
                *file_unique_id = format!("terminal-{message_id}");
            }
            _ => {}
        }
        let incoming = Incoming {
            chat: ChatRef {
                id: who.chat_id,
                private: true,
            },
            user_id: who.user_id,
            user_language: Some(who.lang.code().to_owned()),
            message_id: Some(message_id),
            date: now / 1000,
            event,
        };
        let mut tx = self.storage.begin().await.map_err(engine)?;
        let replies = self
            .handler
            .handle(&mut tx, &incoming)
            .await
            .map_err(|e| ChatError::Engine(e.to_string()))?;
        for m in &replies {
            outbox::enqueue(&mut tx, m, None, now)
                .await
                .map_err(engine)?;
        }
        tx.commit()
            .await
            .map_err(|e| engine(storage::StorageError::from(e)))?;
        Ok(())
    }

    /// Links every demo mediator's chat through a fresh invite before the
    /// resident starts, so assignments reach them as they would on Telegram.
    /// Their welcome messages are not shown.
    pub async fn link_demo_mediators(&mut self) -> Result<(), ChatError> {
        for (id, name, _) in self.demo_mediators().await? {
            let mut conn = self.storage.acquire().await.map_err(engine)?;
            let linked = storage::mediators::get(&mut conn, id)
                .await
                .map_err(engine)?
                .is_some_and(|m| m.linked_at.is_some());
            drop(conn);
            let user_id = storage::terminal::mediator_user_id(id);
            if !linked {
                let who = Identity {
                    user_id,
                    chat_id: user_id,
                    name,
                    lang: self.resident.lang,
                };
                let code = self.new_invite(id).await?;
                self.dispatch(
                    &who,
                    Event::Command {
                        name: "start".into(),
                        args: code,
                    },
                    None,
                )
                .await?;
                let now = self.clock.now_ms();
                let mut tx = self.storage.begin().await.map_err(engine)?;
                for row in outbox::for_chat(&mut tx, user_id).await.map_err(engine)? {
                    if row.status == OutboxStatus::Pending {
                        outbox::mark_sent(&mut tx, row.id, now)
                            .await
                            .map_err(engine)?;
                    }
                }
                tx.commit()
                    .await
                    .map_err(|e| engine(storage::StorageError::from(e)))?;
            }
            self.linked.insert(user_id, true);
        }
        Ok(())
    }

    async fn new_invite(&mut self, mediator_id: i64) -> Result<String, ChatError> {
        let code = crate::secrets::random_secret(24);
        let now = self.clock.now_ms();
        let mut tx = self.storage.begin().await.map_err(engine)?;
        storage::mediators::insert_invite(
            &mut tx,
            mediator_id,
            &crate::secrets::hash_secret(&code),
            now + 7 * 24 * 3_600_000,
            "terminal",
            now,
        )
        .await
        .map_err(engine)?;
        tx.commit()
            .await
            .map_err(|e| engine(storage::StorageError::from(e)))?;
        Ok(code)
    }

    fn take_message_id(&mut self, chat: i64) -> i32 {
        let id = self.next_message_id.entry(chat).or_insert(1);
        let this = *id;
        *id += 1;
        this
    }

    /// Prints the pending outbox rows of the chat on screen, marks them sent,
    /// and says when another chat has news.
    async fn deliver(&mut self) -> Result<(), ChatError> {
        let lang = self.resident.lang;
        let chat = self.current.chat_id;
        let now = self.clock.now_ms();
        let mut conn = self.storage.acquire().await.map_err(engine)?;
        let rows = outbox::for_chat(&mut conn, chat).await.map_err(engine)?;
        drop(conn);
        for row in rows
            .into_iter()
            .filter(|r| r.status == OutboxStatus::Pending)
        {
            self.show(&row.body)?;
            let mut tx = self.storage.begin().await.map_err(engine)?;
            outbox::mark_sent(&mut tx, row.id, now)
                .await
                .map_err(engine)?;
            tx.commit()
                .await
                .map_err(|e| engine(storage::StorageError::from(e)))?;
        }
        let mut conn = self.storage.acquire().await.map_err(engine)?;
        let waiting = storage::terminal::pending_chats(&mut conn, chat)
            .await
            .map_err(engine)?;
        drop(conn);
        for (other, n) in waiting {
            let who = if other == self.resident.chat_id {
                self.resident.name.clone()
            } else if let Some(m) = self.mediator_name_for_chat(other).await? {
                m
            } else {
                // Admin chat or a chat the terminal does not play.
                continue;
            };
            writeln!(
                self.out,
                "{}",
                t(
                    lang,
                    "terminal-news",
                    &[("who", who.into()), ("count", n.into())]
                )
            )?;
        }
        self.out.flush()?;
        Ok(())
    }

    async fn mediator_name_for_chat(&self, chat: i64) -> Result<Option<String>, ChatError> {
        let list = self.demo_mediators().await?;
        Ok(list
            .into_iter()
            .find(|(id, _, _)| storage::terminal::mediator_user_id(*id) == chat)
            .map(|(_, name, _)| name))
    }

    fn show(&mut self, body: &OutBody) -> Result<(), ChatError> {
        let chat = self.current.chat_id;
        let lang = self.resident.lang;
        match body {
            OutBody::Text { html, keyboard } => {
                let id = self.take_message_id(chat);
                writeln!(self.out, "\n{}", indent(&html_to_text(html)))?;
                match keyboard {
                    Some(Keyboard::Remove) | None => {
                        if matches!(keyboard, Some(Keyboard::Remove)) {
                            self.buttons.remove(&chat);
                        }
                    }
                    Some(k) => {
                        let list = buttons(k);
                        write!(self.out, "{}", button_lines(&list))?;
                        self.buttons.insert(chat, (id, list));
                    }
                }
            }
            OutBody::EditText {
                message_id,
                html,
                keyboard,
            } => {
                writeln!(
                    self.out,
                    "\n{}\n{}",
                    t(lang, "terminal-edited", &[]),
                    indent(&html_to_text(html))
                )?;
                self.replace_inline(*message_id, keyboard.as_ref())?;
            }
            OutBody::EditKeyboard {
                message_id,
                keyboard,
            } => {
                self.replace_inline(*message_id, keyboard.as_ref())?;
            }
            OutBody::AnswerCallback { text, .. } => {
                if let Some(text) = text {
                    writeln!(self.out, "  ({})", html_to_text(text))?;
                }
            }
        }
        Ok(())
    }

    fn replace_inline(
        &mut self,
        message_id: i32,
        keyboard: Option<&crate::outgoing::InlineKeyboard>,
    ) -> Result<(), ChatError> {
        let chat = self.current.chat_id;
        let is_latest = self
            .buttons
            .get(&chat)
            .is_some_and(|(id, _)| *id == message_id);
        match keyboard {
            Some(k) => {
                let list = inline_buttons(k);
                write!(self.out, "{}", button_lines(&list))?;
                self.buttons.insert(chat, (message_id, list));
            }
            None if is_latest => {
                self.buttons.remove(&chat);
            }
            None => {}
        }
        Ok(())
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn engine(e: storage::StorageError) -> ChatError {
    ChatError::Engine(e.to_string())
}
