//! A case's variants as a type: one enum, declared once with [`variants!`](crate::variants),
//! carrying each variant's command-line name, its concurrency model and why it exists. The
//! harness parses `--variants` against it, rows carry it, and the run receives it: nothing
//! looks a variant up by a name string after the command line.

use serde::{Deserialize, Serialize};

/// The concurrency model a variant belongs to: the axis every comparison is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// One thread, no concurrency: the baseline every speedup is measured against.
    Sequential,
    /// OS threads, scheduled preemptively by the kernel.
    Threads,
    /// Tasks or futures, scheduled cooperatively by an async runtime.
    Async,
    /// Async code that hands work to threads (or the reverse).
    Hybrid,
    /// Not ours: a peer tool run side by side as an anchor (`b3sum`, `pgbench`).
    Anchor,
}

impl std::fmt::Display for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Model::Sequential => "sequential",
            Model::Threads => "threads",
            Model::Async => "async",
            Model::Hybrid => "hybrid",
            Model::Anchor => "anchor",
        })
    }
}

/// What `--list-variants` and every report say about one variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VariantInfo {
    /// The name used on the command line (`--variants`) and in every report.
    pub name: &'static str,
    pub model: Model,
    /// One line: why a real team would consider this variant.
    pub why: &'static str,
}

/// A case's variants: implemented by [`variants!`](crate::variants) for an enum.
pub trait VariantSet:
    Copy + Eq + Ord + std::hash::Hash + std::fmt::Debug + std::fmt::Display + Send + Sync + 'static
{
    /// Every variant, in the order tables list them.
    const ALL: &'static [Self];

    fn info(self) -> VariantInfo;

    fn name(self) -> &'static str {
        self.info().name
    }

    fn model(self) -> Model {
        self.info().model
    }

    /// The variant named `name` on the command line or in a report.
    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }

    /// What every variant says about itself.
    fn infos() -> Vec<VariantInfo> {
        Self::ALL.iter().map(|v| v.info()).collect()
    }
}

/// Declares a case's variants: an enum with, for each variant, its name, its model and the
/// one line on why a real team would write it. The enum is `Copy`, ordered as declared,
/// prints and serialises as its name.
///
/// ```
/// casebook::variants! {
///     /// How the sum is computed.
///     pub enum Way {
///         Loop = "loop" (Sequential): "the baseline: one thread, a plain loop",
///         Rayon = "rayon" (Threads): "a work-stealing pool: the expert default",
///     }
/// }
/// use casebook::model::variant::{Model, VariantSet};
/// assert_eq!(Way::parse("rayon"), Some(Way::Rayon));
/// assert_eq!(Way::Loop.model(), Model::Sequential);
/// assert_eq!(Way::ALL.len(), 2);
/// assert_eq!(Way::Rayon.to_string(), "rayon");
/// ```
#[macro_export]
macro_rules! variants {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $id:literal ($model:ident): $why:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $crate::model::variant::VariantSet for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];

            fn info(self) -> $crate::model::variant::VariantInfo {
                match self {
                    $($name::$variant => $crate::model::variant::VariantInfo {
                        name: $id,
                        model: $crate::model::variant::Model::$model,
                        why: $why,
                    },)+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str($crate::model::variant::VariantSet::name(*self))
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::model::variant::VariantSet::name(*self))
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <::std::string::String as $crate::__private::serde::Deserialize>::deserialize(deserializer)?;
                <$name as $crate::model::variant::VariantSet>::parse(&name).ok_or_else(|| {
                    <D::Error as $crate::__private::serde::de::Error>::custom(format!("unknown variant '{name}'"))
                })
            }
        }
    };
}

/// Problems a variant list could have, checked when a case binary starts.
pub fn problems<V: VariantSet>() -> Vec<String> {
    let mut problems = Vec::new();
    for (i, v) in V::ALL.iter().enumerate() {
        if V::ALL[..i].iter().any(|w| w.name() == v.name()) {
            problems.push(format!("variant '{}' is declared twice", v.name()));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::variants! {
        enum Demo {
            One = "one" (Threads): "first",
            Two = "two" (Async): "second",
        }
    }

    #[test]
    fn variants_parse_print_and_serialise_by_name() {
        assert_eq!(Demo::parse("two"), Some(Demo::Two));
        assert_eq!(Demo::parse("three"), None);
        assert_eq!(Demo::One.to_string(), "one");
        assert_eq!(serde_json::to_string(&Demo::Two).unwrap(), "\"two\"");
        assert_eq!(serde_json::from_str::<Demo>("\"one\"").unwrap(), Demo::One);
        assert!(serde_json::from_str::<Demo>("\"nope\"").unwrap_err().to_string().contains("unknown variant 'nope'"));
        assert_eq!(Demo::Two.info(), VariantInfo { name: "two", model: Model::Async, why: "second" });
        assert!(problems::<Demo>().is_empty());
    }
}
