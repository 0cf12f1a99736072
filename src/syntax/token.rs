//! Tokens: what the lexer produces and the parser consumes.

use chumsky::span::SimpleSpan;
use std::fmt;

/// A token. `Str` holds the raw text between the quotes (escapes already checked;
/// see [`unescape`]); identifiers and strings borrow from the source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Token<'s> {
    Int(u64),
    Float(f64),
    Str(&'s str),
    Ident(&'s str),
    // Keywords (case-insensitive).
    Create,
    Or,
    Replace,
    Function,
    Returns,
    Let,
    If,
    Else,
    Try,
    Catch,
    And,
    Not,
    As,
    True,
    False,
    Null,
    // Operators and punctuation.
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Coalesce,
    Bang,
    Assign,
    Arrow,
    Comma,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Semi,
    Colon,
    ColonColon,
    Dot,
    /// A line break (after [`apply_line_breaks`]: one that ends an item).
    Newline,
    /// Something the lexer already reported (a bad character or number).
    Error,
}

/// The number of distinct token kinds (see [`Token::kind`]).
pub const TOKEN_KINDS: u8 = 48;

impl Token<'_> {
    /// A small number identifying the kind of token (payloads ignored), below [`TOKEN_KINDS`].
    pub fn kind(&self) -> u8 {
        use Token::*;
        match self {
            Int(_) => 0,
            Float(_) => 1,
            Str(_) => 2,
            Ident(_) => 3,
            Create => 4,
            Or => 5,
            Replace => 6,
            Function => 7,
            Returns => 8,
            Let => 9,
            If => 10,
            Else => 11,
            Try => 12,
            Catch => 13,
            And => 14,
            Not => 15,
            As => 16,
            True => 17,
            False => 18,
            Null => 19,
            Plus => 20,
            Minus => 21,
            Star => 22,
            Slash => 23,
            Percent => 24,
            EqEq => 25,
            NotEq => 26,
            Lt => 27,
            Le => 28,
            Gt => 29,
            Ge => 30,
            AndAnd => 31,
            OrOr => 32,
            Coalesce => 33,
            Bang => 34,
            Assign => 35,
            Arrow => 36,
            Comma => 37,
            LParen => 38,
            RParen => 39,
            LBrace => 40,
            RBrace => 41,
            Semi => 42,
            Colon => 43,
            ColonColon => 44,
            Dot => 45,
            Newline => 46,
            Error => 47,
        }
    }

    /// A representative token of a kind (payloads empty), for messages.
    pub fn of_kind(kind: u8) -> Token<'static> {
        use Token::*;
        const ALL: [Token<'static>; TOKEN_KINDS as usize] = [
            Int(0),
            Float(0.0),
            Str(""),
            Ident(""),
            Create,
            Or,
            Replace,
            Function,
            Returns,
            Let,
            If,
            Else,
            Try,
            Catch,
            And,
            Not,
            As,
            True,
            False,
            Null,
            Plus,
            Minus,
            Star,
            Slash,
            Percent,
            EqEq,
            NotEq,
            Lt,
            Le,
            Gt,
            Ge,
            AndAnd,
            OrOr,
            Coalesce,
            Bang,
            Assign,
            Arrow,
            Comma,
            LParen,
            RParen,
            LBrace,
            RBrace,
            Semi,
            Colon,
            ColonColon,
            Dot,
            Newline,
            Error,
        ];
        ALL[usize::from(kind.min(TOKEN_KINDS - 1))]
    }

    /// True if an expression can end with this token (so a line break after it may end an item).
    pub fn can_end_expr(&self) -> bool {
        use Token::*;
        matches!(
            self,
            Int(_) | Float(_) | Str(_) | Ident(_) | True | False | Null | RParen | RBrace
        )
    }

    /// True if an item can begin with this token (so a line break before it may end an item).
    pub fn can_begin_item(&self) -> bool {
        use Token::*;
        matches!(
            self,
            Int(_)
                | Float(_)
                | Str(_)
                | Ident(_)
                | True
                | False
                | Null
                | LParen
                | Minus
                | Not
                | Bang
                | If
                | Try
                | Create
                | Function
                | Let
                | Semi
                | Error
        )
    }

    /// True if an expression can begin with this token.
    pub fn can_begin_expr(&self) -> bool {
        use Token::*;
        matches!(
            self,
            Int(_)
                | Float(_)
                | Str(_)
                | Ident(_)
                | True
                | False
                | Null
                | LParen
                | Minus
                | Not
                | Bang
                | If
                | Try
        )
    }

    /// The canonical spelling of a fixed token (`None` for tokens with a payload).
    pub fn text(&self) -> Option<&'static str> {
        use Token::*;
        Some(match self {
            Int(_) | Float(_) | Str(_) | Ident(_) | Newline | Error => return None,
            Create => "CREATE",
            Or => "OR",
            Replace => "REPLACE",
            Function => "FUNCTION",
            Returns => "RETURNS",
            Let => "LET",
            If => "IF",
            Else => "ELSE",
            Try => "TRY",
            Catch => "CATCH",
            And => "AND",
            Not => "NOT",
            As => "AS",
            True => "TRUE",
            False => "FALSE",
            Null => "NULL",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
            Coalesce => "??",
            Bang => "!",
            Assign => "=",
            Arrow => "=>",
            Comma => ",",
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            Semi => ";",
            Colon => ":",
            ColonColon => "::",
            Dot => ".",
        })
    }
}

/// How a person reads the token in a message: `` `)` ``, `` `foo` ``, "end of line".
impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Int(v) => write!(f, "`{v}`"),
            Token::Float(v) => write!(f, "`{v:?}`"),
            Token::Str(_) => f.write_str("a string"),
            Token::Ident(name) => write!(f, "`{name}`"),
            Token::Newline => f.write_str("end of line"),
            Token::Error => f.write_str("an invalid token"),
            t => write!(f, "`{}`", t.text().unwrap_or("?")),
        }
    }
}

/// A token with its byte span.
pub type Spanned<'s> = (Token<'s>, SimpleSpan);
