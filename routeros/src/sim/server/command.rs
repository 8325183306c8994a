//! Commands after login: parsing, `/cancel`, and prints run as cancellable tasks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use super::RouterState;
use crate::codec::Sentence;
use crate::reply::{sentence, split_attribute, word_text};
use crate::sim::data::{self, Ctx};
use crate::sim::fault::Faults;
use crate::sim::query;

pub(super) type Outbox = mpsc::UnboundedSender<Vec<Sentence>>;
pub(super) type Running = Arc<Mutex<HashMap<String, AbortHandle>>>;

/// One parsed command sentence.
#[derive(Debug, Default)]
pub(super) struct Command {
    pub(super) name: String,
    pub(super) tag: Option<String>,
    pub(super) attributes: HashMap<String, String>,
    proplist: Option<Vec<String>>,
    queries: Vec<String>,
}

pub(super) fn parse_command(sentence: &Sentence) -> Result<Command, String> {
    let mut words = sentence.words.iter().map(|w| word_text(w));
    let mut command = Command {
        name: words.next().unwrap_or_default(),
        ..Command::default()
    };
    for word in words {
        if let Some(tag) = word.strip_prefix(".tag=") {
            command.tag = Some(tag.to_owned());
        } else if word.starts_with('?') {
            command.queries.push(word);
        } else if let Some(list) = word
            .strip_prefix("=.proplist=")
            .or_else(|| word.strip_prefix(".proplist="))
        {
            command.proplist = Some(list.split(',').map(str::to_owned).collect());
        } else if let Some((k, v)) = split_attribute(&word) {
            command.attributes.insert(k.to_owned(), v.to_owned());
        } else {
            return Err(format!("unknown parameter {word}"));
        }
    }
    Ok(command)
}

pub(super) fn trap(message: &str, category: Option<&str>, tag: Option<&str>) -> Vec<Sentence> {
    let mut attributes = Vec::new();
    if let Some(category) = category {
        attributes.push(("category", category));
    }
    attributes.push(("message", message));
    vec![
        sentence("!trap", &attributes, tag),
        sentence("!done", &[], tag),
    ]
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Held only to move map entries; a panic elsewhere cannot leave the map inconsistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `/cancel =tag=X` stops command X (it answers "interrupted"); without a tag, all commands.
pub(super) fn cancel(command: &Command, running: &Running, outbox: &Outbox) {
    let mut table = lock(running);
    let victims: Vec<String> = match command.attributes.get("tag") {
        Some(tag) => vec![tag.clone()],
        None => table.keys().cloned().collect(),
    };
    let mut replies = Vec::new();
    for victim in victims {
        if let Some(handle) = table.remove(&victim) {
            handle.abort();
            replies.extend(trap("interrupted", Some("2"), Some(&victim)));
        }
    }
    replies.push(sentence("!done", &[], command.tag.as_deref()));
    drop(outbox.send(replies));
}

/// Why a command is refused: a trap's message and category.
pub(super) type Refusal = (&'static str, Option<&'static str>);

/// The print function a command runs, or why the router refuses it (as a real one would: the
/// simulated user may only read).
pub(super) fn printer_for(name: &str, state: &RouterState) -> Result<data::Printer, Refusal> {
    let (path, verb) = name.rsplit_once('/').unwrap_or((name, ""));
    match (data::printer(path, &state.router), verb) {
        (Some(printer), "print" | "getall") => Ok(printer),
        (Some(_), "add" | "set" | "remove" | "enable" | "disable" | "unset" | "reset-counters") => {
            Err(("not enough permissions (9)", None))
        }
        (Some(_), _) => Err(("no such command", Some("0"))),
        (None, _) if data::is_menu(path) || data::is_menu(name) => {
            Err(("no such command", Some("0")))
        }
        (None, _) => Err(("no such command prefix", Some("0"))),
    }
}

/// The context a print reads: the router, the seed, the clock and the faults in force.
pub(super) fn with_ctx<T>(state: &RouterState, f: impl FnOnce(&Ctx) -> T) -> T {
    let faults = state.faults();
    f(&Ctx {
        router: &state.router,
        seed: state.seed,
        now_ms: crate::sim::control::now_ms(),
        faults: Faults(&faults),
    })
}

/// Runs a command in its own task so that others (and `/cancel`) are served meanwhile.
pub(super) fn run(command: Command, state: &Arc<RouterState>, running: &Running, outbox: &Outbox) {
    let tag = command.tag.clone();
    let printer = match printer_for(&command.name, state) {
        Ok(printer) => printer,
        Err((message, category)) => {
            drop(outbox.send(trap(message, category, tag.as_deref())));
            return;
        }
    };
    let state = state.clone();
    let outbox = outbox.clone();
    let table = running.clone();
    // Hold the table while spawning so the task cannot finish before it is registered.
    let mut guard = lock(running);
    let handle = tokio::spawn(async move {
        tokio::time::sleep(state.control.latency()).await;
        let replies = with_ctx(&state, |ctx| print(ctx, printer, &command));
        // Only answer if not cancelled meanwhile (cancel removes the entry and answers itself).
        let mut table = lock(&table);
        let still_running = match &command.tag {
            Some(tag) => table.remove(tag).is_some(),
            None => true,
        };
        if still_running {
            drop(outbox.send(replies));
        }
    });
    if let Some(tag) = tag {
        guard.insert(tag, handle.abort_handle());
    }
}

/// The rows a print returns: those passing the query words, each cut to the `.proplist`; an
/// unreadable query is the trap's message.
pub(super) fn rows(
    ctx: &Ctx,
    printer: data::Printer,
    queries: &[String],
    proplist: Option<&[String]>,
) -> Result<Vec<data::Row>, String> {
    let queries = queries
        .iter()
        .map(|w| query::parse(w))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows = Vec::new();
    for row in printer(ctx) {
        if query::matches(&queries, &row)? {
            rows.push(query::project(row, proplist));
        }
    }
    Ok(rows)
}

fn print(ctx: &Ctx, printer: data::Printer, command: &Command) -> Vec<Sentence> {
    let tag = command.tag.as_deref();
    let rows = match rows(ctx, printer, &command.queries, command.proplist.as_deref()) {
        Ok(rows) => rows,
        Err(e) => return trap(&e, Some("1"), tag),
    };
    if command.attributes.contains_key("count-only") {
        return vec![sentence("!done", &[("ret", &rows.len().to_string())], tag)];
    }
    let mut replies: Vec<Sentence> = rows
        .into_iter()
        .map(|row| {
            let pairs: Vec<(&str, &str)> = row.iter().map(|(k, v)| (*k, v.as_str())).collect();
            sentence("!re", &pairs, tag)
        })
        .collect();
    if replies.is_empty() && ctx.router.version.sends_empty() {
        replies.push(sentence("!empty", &[], tag));
    }
    replies.push(sentence("!done", &[], tag));
    replies
}
