//! The server's own schema, read as data, so tests can walk every operation
//! it offers: a new field is covered by the generated tests the day it lands.

use std::collections::HashMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};
use serde_json::{Map, Value};

/// Where a root field lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Query,
    Mutation,
    Subscription,
}

impl Operation {
    pub fn keyword(self) -> &'static str {
        match self {
            Operation::Query => "query",
            Operation::Mutation => "mutation",
            Operation::Subscription => "subscription",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Argument {
    pub name: String,
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub struct RootField {
    pub operation: Operation,
    pub name: String,
    pub arguments: Vec<Argument>,
    pub returns: Type,
}

/// What a named type is, as far as building requests needs to know.
#[derive(Debug, Clone)]
enum Named {
    Scalar,
    Enum(Vec<String>),
    Input(Vec<Argument>),
    /// Objects, interfaces, unions: select `__typename`.
    Composite,
}

pub struct Schema {
    types: HashMap<String, Named>,
    roots: Vec<RootField>,
}

impl Schema {
    /// Parses the SDL the server prints.
    pub fn load() -> Schema {
        let document = async_graphql::parser::parse_schema(realtalk::graphql::sdl())
            .expect("the server's SDL parses");
        let mut types = HashMap::new();
        let mut roots = Vec::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let name = definition.name.node.to_string();
            let named = match definition.kind {
                TypeKind::Scalar => Named::Scalar,
                TypeKind::Enum(values) => Named::Enum(
                    values
                        .values
                        .into_iter()
                        .map(|value| value.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::InputObject(input) => Named::Input(
                    input
                        .fields
                        .into_iter()
                        .map(|field| Argument {
                            name: field.node.name.node.to_string(),
                            ty: field.node.ty.node,
                        })
                        .collect(),
                ),
                TypeKind::Object(object) => {
                    let operation = match name.as_str() {
                        "Query" => Some(Operation::Query),
                        "Mutation" => Some(Operation::Mutation),
                        "Subscription" => Some(Operation::Subscription),
                        _ => None,
                    };
                    if let Some(operation) = operation {
                        roots.extend(object.fields.into_iter().map(|field| {
                            RootField {
                                operation,
                                name: field.node.name.node.to_string(),
                                arguments: field
                                    .node
                                    .arguments
                                    .into_iter()
                                    .map(|argument| Argument {
                                        name: argument.node.name.node.to_string(),
                                        ty: argument.node.ty.node,
                                    })
                                    .collect(),
                                returns: field.node.ty.node,
                            }
                        }));
                    }
                    Named::Composite
                }
                TypeKind::Interface(_) | TypeKind::Union(_) => Named::Composite,
            };
            types.insert(name, named);
        }
        Schema { types, roots }
    }

    pub fn root_fields(&self) -> &[RootField] {
        &self.roots
    }

    /// The operation with every argument passed as a variable of its own name.
    pub fn document(&self, field: &RootField) -> String {
        let declarations: Vec<String> = field
            .arguments
            .iter()
            .map(|argument| format!("${}: {}", argument.name, argument.ty))
            .collect();
        let arguments: Vec<String> = field
            .arguments
            .iter()
            .map(|argument| format!("{0}: ${0}", argument.name))
            .collect();
        let declarations = if declarations.is_empty() {
            String::new()
        } else {
            format!("({})", declarations.join(", "))
        };
        let arguments = if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        };
        let selection = match self.named(&field.returns) {
            Some(Named::Composite) => " { __typename }",
            _ => "",
        };
        format!(
            "{}{declarations} {{ {}{arguments}{selection} }}",
            field.operation.keyword(),
            field.name
        )
    }

    /// Well-typed variables for every argument of `field` (see [`Self::value`]).
    pub fn variables(&self, field: &RootField, id: &mut dyn FnMut(&str) -> Value) -> Value {
        Value::Object(
            field
                .arguments
                .iter()
                .map(|argument| {
                    (
                        argument.name.clone(),
                        self.value(&argument.ty, &argument.name, id),
                    )
                })
                .collect(),
        )
    }

    /// Whether a value of `ty` carries an `ID` anywhere (also inside inputs).
    pub fn carries_id(&self, ty: &Type) -> bool {
        let name = base_name(ty);
        name == "ID"
            || matches!(self.types.get(name), Some(Named::Input(fields))
                if fields.iter().any(|field| self.carries_id(&field.ty)))
    }

    /// A well-typed value for `ty`: `id(path)` fills every ID (given the
    /// argument or input field name it sits under), other scalars get
    /// ordinary values, enums their first value, inputs all their fields.
    pub fn value(&self, ty: &Type, path: &str, id: &mut dyn FnMut(&str) -> Value) -> Value {
        match &ty.base {
            BaseType::List(inner) => Value::Array(vec![self.value(inner, path, id)]),
            BaseType::Named(name) => match name.as_str() {
                "ID" => id(path),
                "String" => Value::from("hello"),
                "Int" => Value::from(1),
                "Float" => Value::from(1.5),
                "Boolean" => Value::from(true),
                other => match self.types.get(other) {
                    Some(Named::Enum(values)) => Value::from(values[0].clone()),
                    Some(Named::Input(fields)) => Value::Object(
                        fields
                            .iter()
                            .map(|field| {
                                (field.name.clone(), self.value(&field.ty, &field.name, id))
                            })
                            .collect::<Map<_, _>>(),
                    ),
                    _ => Value::Null,
                },
            },
        }
    }

    /// The enum values or input fields of a named type, for generators.
    pub fn enum_values(&self, name: &str) -> Option<&[String]> {
        match self.types.get(name) {
            Some(Named::Enum(values)) => Some(values),
            _ => None,
        }
    }

    pub fn input_fields(&self, name: &str) -> Option<&[Argument]> {
        match self.types.get(name) {
            Some(Named::Input(fields)) => Some(fields),
            _ => None,
        }
    }

    fn named(&self, ty: &Type) -> Option<&Named> {
        self.types.get(base_name(ty))
    }
}

/// The named type under any list wrappers.
pub fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}
