/// Samples of a Prometheus text exposition, for `dongfeng top` (our own metrics: no escapes
/// beyond `\"`, `\\` and `\n` in label values).
public struct PrometheusSamples: Sendable {
    public struct Sample: Sendable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    public private(set) var samples: [Sample] = []

    public init(parsing text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else {
                samples.append(Sample(name: String(series), labels: [:], value: value))
                continue
            }
            var labels: [String: String] = [:]
            var rest = series[series.index(after: brace)...].dropLast()  // without the closing }
            while let eq = rest.firstIndex(of: "=") {
                let key = String(rest[..<eq]).trimmingCharacters(in: [","])
                rest = rest[rest.index(eq, offsetBy: 2)...]  // past ="
                var value = ""
                var escaped = false
                var consumed = rest.startIndex
                for i in rest.indices {
                    let c = rest[i]
                    consumed = rest.index(after: i)
                    if escaped {
                        value.append(c == "n" ? "\n" : c)
                        escaped = false
                    } else if c == "\\" {
                        escaped = true
                    } else if c == "\"" {
                        break
                    } else {
                        value.append(c)
                    }
                }
                labels[key] = value
                rest = rest[consumed...]
                if rest.hasPrefix(",") { rest = rest.dropFirst() }
            }
            samples.append(Sample(name: String(series[..<brace]), labels: labels, value: value))
        }
    }

    /// The value of the first sample of `name` carrying these labels (others may differ).
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// Every sample of `name`.
    public func all(_ name: String) -> [Sample] { samples.filter { $0.name == name } }

    /// Sum of every sample of `name`.
    public func sum(_ name: String) -> Double { all(name).reduce(0) { $0 + $1.value } }
}

extension String {
    func trimmingCharacters(in set: [Character]) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
