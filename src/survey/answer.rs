//! The shape of one question's answer, as validated from a form and stored in a response's JSON:
//! what the plan's indicators, the results and the exports read. Nothing here checks an answer
//! against its question (`answering::validate` does); this is only the value.

use std::collections::BTreeMap;

use serde::Serialize;

/// One question's validated answer. Choice-like kinds (single, scale, yes/no, rating) store the
/// option's code; `yes`/`no` for yes/no, `0`…`10` for ratings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Choice(Code),
    Choices(Vec<String>),
    Integer(i64),
    Decimal(f64),
    Text(String),
    Rows(BTreeMap<String, String>),
}

/// An option's code as an answer holds it: in place up to [`Code::INLINE`] bytes (every code of
/// the shipped surveys is one or two), on the heap past that. A form's answers are mostly codes,
/// one a question, and a `String` each was the HTTP workers' most frequent allocation.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(Stored);

#[derive(Clone, PartialEq, Eq)]
enum Stored {
    Inline {
        length: u8,
        bytes: [u8; Code::INLINE],
    },
    Heap(Box<str>),
}

impl Code {
    pub const INLINE: usize = 22;

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Only ever the bytes of a `&str` (see `From<&str>`), cut where it ended.
            Stored::Inline { length, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*length)]).unwrap_or_default()
            }
            Stored::Heap(text) => text,
        }
    }
}

impl From<&str> for Code {
    fn from(text: &str) -> Code {
        match u8::try_from(text.len()) {
            Ok(length) if text.len() <= Code::INLINE => {
                let mut bytes = [0; Code::INLINE];
                bytes[..text.len()].copy_from_slice(text.as_bytes());
                Code(Stored::Inline { length, bytes })
            }
            _ => Code(Stored::Heap(text.into())),
        }
    }
}

impl std::ops::Deref for Code {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Debug for Code {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), formatter)
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod code_tests {
    use super::Code;

    #[test]
    fn a_code_reads_back_as_given_in_place_or_on_the_heap() {
        for text in [
            "",
            "3",
            "very_satisfied",
            "x".repeat(22).as_str(),
            "长长的选项代码，不止二十二个字节",
        ] {
            let code = Code::from(text);
            assert_eq!(code.as_str(), text);
            assert_eq!(
                serde_json::to_string(&code).expect("a code is written as a string"),
                serde_json::to_string(text).expect("a string is written")
            );
            assert_eq!(format!("{code:?}"), format!("{text:?}"));
        }
        assert_eq!(Code::from("a"), Code::from("a"));
        assert_ne!(Code::from("a"), Code::from("b"));
        assert_ne!(
            Code::from("x".repeat(30).as_str()),
            Code::from("x".repeat(22).as_str())
        );
    }
}
