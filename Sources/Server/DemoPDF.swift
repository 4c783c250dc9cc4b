import Domain
import Foundation

/// Small, valid one-page PDF files for the demo's documents (Helvetica, text folded to ASCII).
enum DemoPDF {
    static func make(title: String, lines: [String]) -> [UInt8] {
        func ascii(_ text: String) -> String {
            text.folding(options: [.diacriticInsensitive], locale: nil).unicodeScalars
                .map { $0.isASCII && $0.value >= 0x20 ? String($0) : "-" }.joined()
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(").replacingOccurrences(
                    of: ")", with: "\\)")
        }
        var stream = "BT /F1 16 Tf 56 780 Td (\(ascii(title))) Tj ET\n"
        for (index, line) in lines.enumerated() {
            stream += "BT /F1 11 Tf 56 \(750 - index * 16) Td (\(ascii(line))) Tj ET\n"
        }
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            "<< /Length \(stream.utf8.count) >>\nstream\n\(stream)endstream",
        ]
        var pdf = "%PDF-1.4\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(pdf.utf8.count)
            pdf += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = pdf.utf8.count
        pdf += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { pdf += String(format: "%010d 00000 n \n", offset) }
        pdf += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(pdf.utf8)
    }
}
