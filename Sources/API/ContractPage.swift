import Domain
import Foundation
import Yams

/// The contract read once from `openapi.yaml`: the operations and schemas `/docs` shows and metrics are named after.
struct Contract: Sendable {
    struct Parameter: Sendable {
        var name: String
        var location: String
        var required: Bool
        var type: String
        var description: String
    }

    struct Operation: Sendable {
        var method: String
        var path: String
        var id: String
        var tag: String
        var summary: String
        var description: String
        var roles: String
        var parameters: [Parameter]
        /// Content type and the schema's description.
        var body: (contentType: String, schema: String, required: Bool)?
        var responses: [(status: String, description: String, schema: String?)]
        var example: String
    }

    var title = ""
    var version = ""
    var description = ""
    var tags: [(name: String, description: String)] = []
    var operations: [Operation] = []
    var schemas: [(name: String, description: String, properties: [(name: String, type: String, required: Bool, description: String)])] = []

    /// The contract shipped in this binary (empty when it could not be read: the page says so).
    static let shipped: Contract = (try? Contract(yaml: String(decoding: OpenAPIDocument.yaml, as: UTF8.self))) ?? Contract()
    /// Its page, rendered once.
    static let shippedPage = shipped.page

    init() {}

    init(yaml: String) throws {
        guard let root = try Yams.load(yaml: yaml) as? [String: Any] else { return }
        let document = Document(root: root)
        let info = root["info"] as? [String: Any] ?? [:]
        title = info["title"] as? String ?? ""
        version = info["version"] as? String ?? ""
        description = info["description"] as? String ?? ""
        tags = (root["tags"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0["description"] as? String ?? "") }
        let paths = root["paths"] as? [String: Any] ?? [:]
        for path in paths.keys.sorted() {
            guard let item = paths[path] as? [String: Any] else { continue }
            let shared = item["parameters"] as? [Any] ?? []
            for method in ["get", "put", "post", "patch", "delete"] {
                guard let entry = item[method] as? [String: Any] else { continue }
                operations.append(document.operation(method: method, path: path, entry: entry, shared: shared))
            }
        }
        let schemaTable = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        for name in schemaTable.keys.sorted() {
            guard let schema = schemaTable[name] as? [String: Any] else { continue }
            let required = Set(schema["required"] as? [String] ?? [])
            let properties = (schema["properties"] as? [String: Any] ?? [:]).keys.sorted().map { property in
                let value = (schema["properties"] as? [String: Any])?[property] as? [String: Any] ?? [:]
                return (property, document.typeName(value), required.contains(property), value["description"] as? String ?? "")
            }
            schemas.append((name, schema["description"] as? String ?? "", properties))
        }
        // The tags' order, then each tag's operations by path.
        let order = Dictionary(tags.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        operations.sort { (order[$0.tag] ?? .max, $0.path) < (order[$1.tag] ?? .max, $1.path) }
    }
}

/// Lookups in the parsed YAML: `$ref`s resolved, types named, examples made.
private struct Document {
    let root: [String: Any]

    func resolve(_ value: Any?) -> [String: Any] {
        guard var object = value as? [String: Any] else { return [:] }
        var depth = 0
        while let reference = object["$ref"] as? String, depth < 8 {
            var target: Any? = root
            for part in reference.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(part)] }
            object = target as? [String: Any] ?? [:]
            depth += 1
        }
        return object
    }

    static func referenceName(_ value: Any?) -> String? {
        ((value as? [String: Any])?["$ref"] as? String).map { String($0.split(separator: "/").last ?? "") }
    }

    func typeName(_ schema: [String: Any]) -> String {
        if let name = Self.referenceName(schema) { return name }
        if let all = (schema["allOf"] ?? schema["oneOf"] ?? schema["anyOf"]) as? [Any] {
            return all.map { typeName($0 as? [String: Any] ?? [:]) }.joined(separator: " | ")
        }
        let type = (schema["type"] as? String) ?? ((schema["type"] as? [String])?.joined(separator: " | ")) ?? "object"
        if type == "array" { return "array of " + typeName(schema["items"] as? [String: Any] ?? [:]) }
        if let values = schema["enum"] as? [Any] { return type + " (" + values.map { "\($0)" }.joined(separator: ", ") + ")" }
        if let format = schema["format"] as? String { return "\(type) (\(format))" }
        return type
    }

    /// A value that fits `schema`: its own example when the contract gives one, otherwise made from its shape.
    func example(_ schema: Any?, depth: Int = 0) -> Any {
        let schema = resolve(schema)
        if let example = schema["example"] { return example }
        if let values = schema["enum"] as? [Any], let first = values.first { return first }
        if let all = (schema["allOf"] ?? schema["oneOf"] ?? schema["anyOf"]) as? [Any], let first = all.first {
            return example(first, depth: depth + 1)
        }
        guard depth < 6 else { return [String: Any]() }
        switch schema["type"] as? String ?? (schema["properties"] == nil ? "string" : "object") {
        case "object":
            let required = Set(schema["required"] as? [String] ?? [])
            var object: [String: Any] = [:]
            for (name, property) in schema["properties"] as? [String: Any] ?? [:] where required.contains(name) || required.isEmpty {
                object[name] = example(property, depth: depth + 1)
            }
            return object
        case "array": return [example(schema["items"], depth: depth + 1)]
        case "integer": return (schema["minimum"] as? Int) ?? 1
        case "number": return 1.5
        case "boolean": return true
        default:
            switch schema["format"] as? String {
            case "date": return "2024-03-15"
            case "date-time": return "2024-03-15T09:30:00Z"
            case "uuid": return "7d1f3b2c-5a4e-4c1b-9f0a-2e6d8c4b1a90"
            case "email": return "camille@example.org"
            case "uri": return "https://example.org/"
            default: return "…"
            }
        }
    }

    func json(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value) || value is String || value is Int || value is Bool || value is Double,
            let data = try? JSONSerialization.data(
                withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        else { return "\(value)" }
        return String(decoding: data, as: UTF8.self)
    }

    func operation(method: String, path: String, entry: [String: Any], shared: [Any]) -> Contract.Operation {
        let description = entry["description"] as? String ?? ""
        let roles =
            description.split(separator: "\n").first(where: { $0.hasPrefix("Roles:") }).map {
                String($0.dropFirst("Roles:".count)).trimmingCharacters(in: .whitespaces)
            } ?? ""
        let parameters = (shared + (entry["parameters"] as? [Any] ?? [])).map { resolve($0) }.map { parameter in
            Contract.Parameter(
                name: parameter["name"] as? String ?? "", location: parameter["in"] as? String ?? "",
                required: parameter["required"] as? Bool ?? false, type: typeName(parameter["schema"] as? [String: Any] ?? [:]),
                description: parameter["description"] as? String ?? "")
        }
        var body: (String, String, Bool)?
        var bodyExample: String?
        let requestBody = resolve(entry["requestBody"])
        if let content = requestBody["content"] as? [String: Any], let type = content.keys.sorted().first {
            let media = content[type] as? [String: Any] ?? [:]
            body = (type, typeName(media["schema"] as? [String: Any] ?? [:]), requestBody["required"] as? Bool ?? false)
            if type.contains("json") { bodyExample = json(media["example"] ?? example(media["schema"])) }
        }
        let responseTable = entry["responses"] as? [String: Any] ?? [:]
        let responses = responseTable.keys.sorted().map { status in
            let response = resolve(responseTable[status])
            let content = response["content"] as? [String: Any] ?? [:]
            let schema = content.keys.sorted().first.flatMap { (content[$0] as? [String: Any])?["schema"] as? [String: Any] }
            return (status, response["description"] as? String ?? "", schema.map { typeName($0) })
        }
        // The request as curl would send it, and the first success's body.
        let open = (entry["security"] as? [Any])?.isEmpty == true
        // Required query parameters and headers with a value of their type (a placeholder when it is free text).
        func value(_ parameter: [String: Any]) -> String {
            let made = parameter["example"] ?? self.example(parameter["schema"])
            let text = made as? String ?? json(made)
            return text == "…" ? (parameter["name"] as? String ?? "value").uppercased().replacingOccurrences(of: "-", with: "_") : text
        }
        let required = (shared + (entry["parameters"] as? [Any] ?? [])).map { resolve($0) }.filter { $0["required"] as? Bool == true }
        let query = required.filter { $0["in"] as? String == "query" }.map { "\($0["name"] as? String ?? "")=\(value($0))" }
        var curl = "curl -X \(method.uppercased()) 'http://127.0.0.1:8080\(path)\(query.isEmpty ? "" : "?" + query.joined(separator: "&"))'"
        if !open { curl += " \\\n  -H \"Authorization: Bearer $TOKEN\"" }
        // If-Match is what every update and transition needs (428 without), required by the contract or not.
        let headers = (shared + (entry["parameters"] as? [Any] ?? [])).map { resolve($0) }.filter {
            $0["in"] as? String == "header" && ($0["required"] as? Bool == true || ($0["name"] as? String)?.lowercased() == "if-match")
        }
        for header in headers {
            let name = header["name"] as? String ?? ""
            let shown = name.lowercased().hasPrefix("if-") ? "\"ETAG\"" : value(header)
            curl += " \\\n  -H '\(name): \(shown)'"
        }
        if let (type, _, _) = body { curl += " \\\n  -H 'Content-Type: \(type)'" }
        if let bodyExample { curl += " \\\n  -d '\(bodyExample.replacingOccurrences(of: "'", with: "'\\''"))'" }
        if body != nil && bodyExample == nil { curl += " \\\n  --data-binary @fichier.pdf" }
        var example = curl
        if let success = responseTable.keys.sorted().first(where: { $0.hasPrefix("2") }) {
            let response = resolve(responseTable[success])
            if let content = response["content"] as? [String: Any], let type = content.keys.sorted().first, type.contains("json") {
                let media = content[type] as? [String: Any] ?? [:]
                example += "\n\n# \(success)\n" + json(media["example"] ?? self.example(media["schema"]))
            } else {
                example += "\n\n# \(success)"
            }
        }
        return Contract.Operation(
            method: method.uppercased(), path: path, id: entry["operationId"] as? String ?? "",
            tag: (entry["tags"] as? [String])?.first ?? "", summary: entry["summary"] as? String ?? "", description: description,
            roles: roles, parameters: parameters, body: body, responses: responses, example: example)
    }
}

extension Contract {
    /// The whole contract as one HTML page: no script, no style or font from anywhere else.
    var page: String {
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) \(escape(version))</title>
            <style>
            :root { --ink: #1d2330; --muted: #5b6474; --line: #dfe3ea; --accent: #0a5c8a; --code: #f4f6f9; }
            * { box-sizing: border-box; }
            body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); display: flex; }
            nav { width: 290px; flex: none; height: 100vh; overflow-y: auto; position: sticky; top: 0; padding: 1rem; border-right: 1px solid var(--line); background: #fafbfc; font-size: 13px; }
            nav h2 { font-size: 12px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 1.2rem 0 .3rem; }
            nav a { display: block; color: var(--ink); text-decoration: none; padding: 1px 0; }
            nav a:hover, nav a:focus { color: var(--accent); text-decoration: underline; }
            main { flex: 1; min-width: 0; padding: 1.5rem 2.5rem 4rem; max-width: 1100px; }
            h1 { margin-top: 0; } h2.tag { border-bottom: 2px solid var(--line); padding-bottom: .3rem; margin-top: 3rem; }
            section.op { border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin: 1.2rem 0; }
            section.op h3 { margin: 0 0 .4rem; font-size: 17px; }
            .method { display: inline-block; min-width: 4.2em; text-align: center; font: 600 12px/1.8 ui-monospace, monospace; color: #fff; border-radius: 4px; margin-right: .5em; }
            .GET { background: #1f7a4d; } .POST { background: #0a5c8a; } .PUT { background: #8a5a0a; } .PATCH { background: #6b3fa0; } .DELETE { background: #a3262a; }
            .path { font: 600 15px ui-monospace, monospace; }
            .id { color: var(--muted); font: 12px ui-monospace, monospace; }
            .roles { background: #eef6fb; border-left: 3px solid var(--accent); padding: .3rem .6rem; margin: .5rem 0; }
            table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem; font-size: 14px; }
            th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .3rem .5rem; }
            th { color: var(--muted); font-weight: 600; }
            code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
            code { background: var(--code); padding: 0 .25em; border-radius: 3px; }
            pre { background: var(--code); padding: .8rem; border-radius: 6px; overflow-x: auto; }
            h4 { margin: .9rem 0 .2rem; font-size: 14px; color: var(--muted); }
            .req { color: #a3262a; font-size: 12px; }
            @media (max-width: 800px) { body { display: block; } nav { width: auto; height: auto; position: static; } main { padding: 1rem; } }
            </style>
            </head>
            <body>
            <nav aria-label="Operations">
            <strong>\(escape(title))</strong>
            <div><a href="/openapi.yaml">openapi.yaml</a></div>

            """
        for tag in tags {
            html += "<h2>\(escape(tag.name))</h2>\n"
            for operation in operations where operation.tag == tag.name {
                html += "<a href=\"#\(escape(operation.id))\">\(escape(operation.id))</a>\n"
            }
        }
        html += "<h2>Schemas</h2>\n<a href=\"#schemas\">\(schemas.count) schemas</a>\n</nav>\n<main>\n"
        html += "<h1>\(escape(title)) <small>\(escape(version))</small></h1>\n\(prose(description))\n"
        html += "<p>\(operations.count) operations. The contract itself: <a href=\"/openapi.yaml\"><code>/openapi.yaml</code></a>.</p>\n"
        for tag in tags {
            html += "<h2 class=\"tag\" id=\"tag-\(escape(tag.name))\">\(escape(tag.name))</h2>\n\(prose(tag.description))\n"
            for operation in operations where operation.tag == tag.name { html += section(operation) }
        }
        html += "<h2 class=\"tag\" id=\"schemas\">Schemas</h2>\n"
        for schema in schemas {
            html +=
                "<section class=\"op\" id=\"schema-\(escape(schema.name))\"><h3>\(escape(schema.name))</h3>\n\(prose(schema.description))\n"
            if !schema.properties.isEmpty {
                html += "<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>\n"
                for property in schema.properties {
                    html +=
                        "<tr>\(nameCell(property.name, required: property.required))"
                        + "<td>\(typeLink(property.type))</td><td>\(inline(property.description))</td></tr>\n"
                }
                html += "</table>\n"
            }
            html += "</section>\n"
        }
        html += "</main>\n</body>\n</html>\n"
        return html
    }

    private func section(_ operation: Operation) -> String {
        var html = """
            <section class="op" id="\(escape(operation.id))">
            <h3><span class="method \(operation.method)">\(operation.method)</span><span class="path">\(escape(operation.path))</span></h3>
            <div class="id">\(escape(operation.id))</div>
            <p><strong>\(inline(operation.summary))</strong></p>
            <div class="roles"><strong>Roles:</strong> \(inline(operation.roles.isEmpty ? "see the description" : operation.roles))</div>
            \(prose(operation.description.split(separator: "\n").filter { !$0.hasPrefix("Roles:") }.joined(separator: "\n")))

            """
        if !operation.parameters.isEmpty {
            html += "<h4>Parameters</h4>\n<table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>\n"
            for parameter in operation.parameters {
                html +=
                    "<tr>\(nameCell(parameter.name, required: parameter.required))"
                    + "<td>\(escape(parameter.location))</td><td>\(typeLink(parameter.type))</td><td>\(inline(parameter.description))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if let body = operation.body {
            html +=
                "<h4>Request body\(body.required ? "" : " (optional)")</h4>\n<p><code>\(escape(body.contentType))</code> "
                + "\(typeLink(body.schema))</p>\n"
        }
        html += "<h4>Responses</h4>\n<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>\n"
        for response in operation.responses {
            html +=
                "<tr><td><code>\(escape(response.status))</code></td><td>\(inline(response.description))</td>"
                + "<td>\(response.schema.map(typeLink) ?? "")</td></tr>\n"
        }
        html += "</table>\n<h4>Example</h4>\n<pre>\(escape(operation.example))</pre>\n</section>\n"
        return html
    }

    /// The first cell of a field's or a parameter's row: its name, and whether it is required.
    private func nameCell(_ name: String, required: Bool) -> String {
        "<td><code>\(escape(name))</code>\(required ? " <span class=\"req\">required</span>" : "")</td>"
    }

    /// A type name, each schema in it linked to its table.
    private func typeLink(_ type: String) -> String {
        let known = Set(schemas.map(\.name))
        return type.split(separator: " ", omittingEmptySubsequences: false).map { word in
            known.contains(String(word)) ? "<a href=\"#schema-\(escape(String(word)))\">\(escape(String(word)))</a>" : escape(String(word))
        }.joined(separator: " ")
    }

    /// Paragraphs of the contract's text, `code` spans kept.
    private func prose(_ text: String) -> String {
        text.components(separatedBy: "\n\n").filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }.map {
            "<p>\(inline($0))</p>"
        }.joined(separator: "\n")
    }

    private func inline(_ text: String) -> String {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        return parts.enumerated().map { index, part in
            index % 2 == 1 && index < parts.count - 1 ? "<code>\(escape(String(part)))</code>" : escape(String(part))
        }.joined()
    }

    private func escape(_ text: String) -> String { text.htmlEscaped }
}
