//! Parsed documents, kept by their text so that a request the api has seen
//! before skips the parser.

use std::collections::HashMap;

/// Most documents [`ParsedDocuments`] keeps; when full it starts again empty.
const MAX_PARSED_DOCUMENTS: usize = 128;
/// Longest document [`ParsedDocuments`] keeps (longer ones are parsed each time).
const MAX_PARSED_DOCUMENT_BYTES: usize = 4 * 1024;

/// Documents that parsed, by their text: clients send the same few documents
/// again and again (a page, the next page, with other variables), and parsing one
/// is about a twentieth of a page's CPU (`page-bench`, docs/PERFORMANCE.md).
/// Bounded to [`MAX_PARSED_DOCUMENTS`] of at most [`MAX_PARSED_DOCUMENT_BYTES`];
/// a document that does not parse is not kept, so the schema parses it again and
/// answers `GRAPHQL_PARSE_FAILED` as ever. Depth, complexity and validation still
/// run on every request.
#[derive(Default)]
pub struct ParsedDocuments(
    std::sync::Mutex<HashMap<String, async_graphql::parser::types::ExecutableDocument>>,
);

impl ParsedDocuments {
    /// Hands `request` its parsed document when it is known or parses now.
    pub fn attach(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_PARSED_DOCUMENT_BYTES {
            return;
        }
        let known = self.lock().get(&request.query).cloned();
        let document = match known {
            Some(document) => document,
            None => {
                let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
                    return;
                };
                let mut documents = self.lock();
                if documents.len() >= MAX_PARSED_DOCUMENTS {
                    documents.clear();
                }
                documents.insert(request.query.clone(), document.clone());
                document
            }
        };
        request.set_parsed_query(document);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, async_graphql::parser::types::ExecutableDocument>>
    {
        // The map is whole after any panic (one insert or clear at a time).
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(documents: &ParsedDocuments) -> usize {
        documents.lock().len()
    }

    #[test]
    fn a_document_is_parsed_once_and_handed_to_every_request_that_sends_it() {
        let documents = ParsedDocuments::default();
        for _ in 0..3 {
            let mut request = async_graphql::Request::new("{ me { id } }");
            documents.attach(&mut request);
            assert!(request.parsed_query().is_ok());
        }
        assert_eq!(kept(&documents), 1);
    }

    #[test]
    fn documents_that_do_not_parse_or_are_too_long_are_not_kept() {
        let documents = ParsedDocuments::default();
        documents.attach(&mut async_graphql::Request::new("{ me { id "));
        let long = format!(
            "{{ me {{ id {} }} }}",
            "email ".repeat(MAX_PARSED_DOCUMENT_BYTES)
        );
        documents.attach(&mut async_graphql::Request::new(long));
        assert_eq!(kept(&documents), 0);
    }

    #[test]
    fn it_never_keeps_more_than_its_bound() {
        let documents = ParsedDocuments::default();
        for n in 0..(MAX_PARSED_DOCUMENTS * 3) {
            documents.attach(&mut async_graphql::Request::new(format!(
                "{{ a{n}: me {{ id }} }}"
            )));
            assert!(kept(&documents) <= MAX_PARSED_DOCUMENTS);
        }
        assert!(kept(&documents) > 0);
    }
}
