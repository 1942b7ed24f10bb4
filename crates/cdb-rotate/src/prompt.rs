//! The operator's answers: [`Prompter`] and [`LinePrompter`], which reads lines from any input
//! (a terminal, a pty in the tests, a pipe). The end of the input counts as `quit`: a closed
//! terminal stops the rotation where it stands, and `--resume` continues.

use std::io::{self, BufRead, Write};

/// The answer to a step that changes something.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    Skip(String),
    Quit,
}

/// The answer to a manual step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManualAnswer {
    Done,
    Failed,
    Quit,
}

/// Asks the operator.
pub trait Prompter {
    /// `y`, `n`, `skip REASON` or `quit` for a step that changes something.
    fn ask_step(&mut self, out: &mut dyn Write) -> io::Result<Answer>;
    /// `done`, `failed` or `quit` for a manual step.
    fn ask_manual(&mut self, out: &mut dyn Write) -> io::Result<ManualAnswer>;
    /// A yes/no question (closing the loop: set `last_rotated`); `None`: quit or no input.
    fn ask_yes_no(&mut self, question: &str, out: &mut dyn Write) -> io::Result<Option<bool>>;
}

/// Reads answers line by line; asks again on anything it does not understand.
#[derive(Debug)]
pub struct LinePrompter<R> {
    pub input: R,
}

impl<R: BufRead> LinePrompter<R> {
    fn line(&mut self) -> io::Result<Option<String>> {
        let mut s = String::new();
        if self.input.read_line(&mut s)? == 0 {
            return Ok(None);
        }
        Ok(Some(s.trim().to_owned()))
    }
}

impl<R: BufRead> Prompter for LinePrompter<R> {
    fn ask_step(&mut self, out: &mut dyn Write) -> io::Result<Answer> {
        loop {
            write!(out, "run it? [y / n / skip REASON / quit] ")?;
            out.flush()?;
            let Some(l) = self.line()? else {
                writeln!(out)?;
                return Ok(Answer::Quit);
            };
            let (word, rest) = l.split_once(char::is_whitespace).unwrap_or((&l, ""));
            match word.to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(Answer::Yes),
                "n" | "no" => return Ok(Answer::No),
                "q" | "quit" => return Ok(Answer::Quit),
                "skip" if !rest.trim().is_empty() => {
                    return Ok(Answer::Skip(rest.trim().to_owned()));
                }
                "skip" => writeln!(out, "a skip needs a reason: skip REASON")?,
                _ => writeln!(out, "answer y, n, skip REASON or quit")?,
            }
        }
    }

    fn ask_manual(&mut self, out: &mut dyn Write) -> io::Result<ManualAnswer> {
        loop {
            write!(out, "when it is done: [done / failed / quit] ")?;
            out.flush()?;
            let Some(l) = self.line()? else {
                writeln!(out)?;
                return Ok(ManualAnswer::Quit);
            };
            match l.to_ascii_lowercase().as_str() {
                "done" => return Ok(ManualAnswer::Done),
                "failed" => return Ok(ManualAnswer::Failed),
                "q" | "quit" => return Ok(ManualAnswer::Quit),
                _ => writeln!(out, "answer done, failed or quit")?,
            }
        }
    }

    fn ask_yes_no(&mut self, question: &str, out: &mut dyn Write) -> io::Result<Option<bool>> {
        loop {
            write!(out, "{question} [y / n] ")?;
            out.flush()?;
            let Some(l) = self.line()? else {
                writeln!(out)?;
                return Ok(None);
            };
            match l.to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(Some(true)),
                "n" | "no" => return Ok(Some(false)),
                "q" | "quit" => return Ok(None),
                _ => writeln!(out, "answer y or n")?,
            }
        }
    }
}
