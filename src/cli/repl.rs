//! The interactive session: line editing and history (rustyline), multi-line entries
//! while brackets are open, session commands, and every entry run in one [`Engine`].
//!
//! When stdin is not a terminal, rustyline reads it line by line without prompts or
//! escape codes, so the session can be fed by a pipe; it ends at end of input.

use super::{report, run_program};
use grizzly::{needs_more_input, Engine, InterruptHandle, JitMode, Source};
use rustyline::error::ReadlineError;
use rustyline::DefaultEditor;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const PROMPT: &str = "grizzly> ";
const CONTINUATION: &str = "...> ";

const HELP: &str = "\
Commands (a whole line, case-insensitive):
  help                 show this text
  quit, exit           leave the session (Ctrl-D also works)
  Ctrl-C               stop the running entry (definitions stay), or drop an
                       unfinished one (the one behind a `...>` prompt)
  jit status           show JIT statistics
  jit enable           compile hot functions (JIT on)
  jit disable          interpret only (JIT off)
  jit clear            drop all compiled code and restart the call counters
  jit threshold N      compile a function after N calls (N >= 1)
  jit dump NAME        show the machine code of NAME's compiled versions
Anything else is PL-GRIZZLY; definitions and LETs stay for the rest of the session:
  FUNCTION sq(x) => x * x      CREATE FUNCTION f(n) RETURNS int { LET m = n + 1; m * 2 }
  LET a = sq(4)                a + 1   (an expression prints its value; # starts a comment)
  IF a > 10 { \"big\" } ELSE { \"small\" }      TRY 1 / 0 CATCH -1      a :: float      len(\"abc\")";

/// Runs the session until `quit` or end of input. Errors in entries are reported and
/// the session goes on, so the exit status is 0 unless the terminal itself fails.
pub fn run(engine: &mut Engine) -> ExitCode {
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("error: cannot start the interactive session: {e}");
            return ExitCode::from(super::EXIT_ERROR);
        }
    };
    // A session fed by a pipe neither reads nor extends the user's history file.
    let interactive = io::stdin().is_terminal();
    let history = history_file().filter(|_| interactive);
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    if interactive {
        println!(
            "Grizzly {} (PL-GRIZZLY). Type `help` for commands, `quit` to leave.",
            env!("CARGO_PKG_VERSION")
        );
    }

    let running = stop_on_ctrl_c(engine.interrupt_handle());
    let mut entries = 0usize;
    let mut pending = String::new();
    let status = loop {
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C drops the entry being typed.
                pending.clear();
                continue;
            }
            Err(ReadlineError::Eof) => {
                if !pending.trim().is_empty() {
                    entries += 1;
                    run_entry(engine, &running, entries, &pending);
                }
                break ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("error: cannot read input: {e}");
                break ExitCode::from(super::EXIT_ERROR);
            }
        };
        if pending.is_empty() {
            match command(engine, &line) {
                Some(Flow::Quit) => {
                    let _ = editor.add_history_entry(line.trim());
                    break ExitCode::SUCCESS;
                }
                Some(Flow::Continue) => {
                    let _ = editor.add_history_entry(line.trim());
                    continue;
                }
                None => {}
            }
        } else {
            pending.push('\n');
        }
        pending.push_str(&line);
        if needs_more_input(&pending) {
            continue;
        }
        if !pending.trim().is_empty() {
            let _ = editor.add_history_entry(pending.as_str());
            entries += 1;
            run_entry(engine, &running, entries, &pending);
        }
        pending.clear();
    };
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    status
}

/// `$HOME/.grizzly_history`, when HOME is set (failures to read or write it are ignored).
fn history_file() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".grizzly_history"))
}

/// Makes Ctrl-C (SIGINT) stop the running entry with an `interrupted` error, the
/// session and its definitions kept. At the prompt the line editor reads Ctrl-C as a
/// key (the terminal is in raw mode), and drops the line as shells do; a SIGINT
/// between entries is ignored, unless the session is fed by a pipe, which it ends as
/// it would have without the handler. Returns the flag saying an entry runs.
fn stop_on_ctrl_c(handle: InterruptHandle) -> Arc<AtomicBool> {
    let running = Arc::new(AtomicBool::new(false));
    let flag = running.clone();
    let interactive = io::stdin().is_terminal();
    // Without a handler (none could be installed), Ctrl-C ends the session.
    let _ = ctrlc::set_handler(move || {
        if flag.load(Ordering::SeqCst) {
            handle.interrupt();
        } else if !interactive {
            std::process::exit(130);
        }
    });
    running
}

/// Runs one entry as a program in the session's engine. The source is named after the
/// entry's number, so that error reports say which entry they concern.
fn run_entry(engine: &mut Engine, running: &AtomicBool, number: usize, text: &str) {
    let source = Source::new(format!("<repl:{number}>"), text);
    running.store(true, Ordering::SeqCst);
    // The status is only for `run` and `eval`: a failed entry ends nothing here.
    let _ = run_program(engine, &source);
    running.store(false, Ordering::SeqCst);
    // A Ctrl-C as the entry ended must not stop the next one.
    engine.clear_interrupt();
}

/// What the session does after a command.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

/// Runs `line` if it is a session command; `None` if it is PL-GRIZZLY source.
///
/// `help`, `quit` and `exit` are commands only as the whole line; `jit` is a command
/// when a word follows it (`jit` alone, or `jit + 1`, is source naming a variable).
fn command(engine: &mut Engine, line: &str) -> Option<Flow> {
    let line = line.trim();
    let line = line.strip_suffix(';').unwrap_or(line).trim_end();
    let words: Vec<&str> = line.split_whitespace().collect();
    let first = words.first()?.to_ascii_lowercase();
    match (first.as_str(), words.len()) {
        ("help", 1) => println!("{HELP}"),
        ("quit" | "exit", 1) => return Some(Flow::Quit),
        ("jit", n) if n >= 2 && is_command_word(words[1]) => {
            jit_command(engine, &words[1..]);
        }
        _ => return None,
    }
    Some(Flow::Continue)
}

/// A word after `jit` that makes the line a command: letters only, not a keyword of
/// the language (`jit AND ok` is source).
fn is_command_word(word: &str) -> bool {
    const KEYWORDS: [&str; 16] = [
        "create", "or", "replace", "function", "returns", "let", "if", "else", "try", "catch",
        "and", "not", "as", "true", "false", "null",
    ];
    word.chars().all(|c| c.is_ascii_alphabetic())
        && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str())
}

/// `jit status|enable|disable|clear|threshold N|dump NAME`.
fn jit_command(engine: &mut Engine, args: &[&str]) {
    let sub = args[0].to_ascii_lowercase();
    match (sub.as_str(), &args[1..]) {
        ("status", []) => {
            let status = engine.jit_status();
            if !status.is_empty() {
                println!("{}", status.trim_end_matches('\n'));
            }
        }
        ("enable", []) => {
            engine.set_jit_mode(JitMode::On);
            println!("JIT enabled (threshold {})", engine.threshold());
        }
        ("disable", []) => {
            engine.set_jit_mode(JitMode::Off);
            println!("JIT disabled (interpreting only)");
        }
        ("clear", []) => {
            engine.jit_clear();
            println!("JIT cleared (compiled code dropped, call counters restarted)");
        }
        ("threshold", [n]) => match n.parse::<u32>() {
            Ok(n) if n >= 1 => {
                engine.set_threshold(n);
                println!("JIT threshold set to {n}");
            }
            _ => eprintln!(
                "error: jit threshold: N must be a whole number from 1 to {}, not '{n}'",
                u32::MAX
            ),
        },
        ("dump", [name]) => match engine.jit_dump(name) {
            Ok(text) => println!("{}", text.trim_end_matches('\n')),
            Err(e) => report(&e),
        },
        ("threshold", _) => eprintln!("error: usage: jit threshold N"),
        ("dump", _) => eprintln!("error: usage: jit dump NAME"),
        ("status" | "enable" | "disable" | "clear", _) => {
            eprintln!("error: usage: jit {sub} (no arguments)")
        }
        _ => eprintln!(
            "error: unknown command 'jit {}'; try `help`",
            args.join(" ")
        ),
    }
}
