import Contracts
import Feeds
import Foundation
import Research

/// A tick file as `replay`, `backtest` and `sweep` read it: parsed in chunks, or — with
/// `--cache` — from `FILE.dfcache` while the file is unchanged (written on the first run), the
/// same ticks either way. Rejected rows are reported on stderr (the first 20) as they are found,
/// or as the cache recorded them.
struct TickFile {
    let path: String
    let format: TickFormat
    let cache: Bool

    struct Outcome {
        var rejected = 0
        /// Why the file could not be read past some point (the ticks before it were fed).
        var documentError: String?
    }

    /// nil when the file cannot be opened.
    init?(path: String, format: TickFormat, cache: Bool) {
        guard access(path, R_OK) == 0 else { return nil }
        self.path = path
        self.format = format
        self.cache = cache
    }

    /// Feeds every valid tick, in file order, to `body`.
    func read(_ body: (Tick) -> Void) -> Outcome? {
        let cachePath = path + ".dfcache"
        let key = cache ? fileStamp(path).map { "\($0)|ticks|format=\(format)" } : nil
        if let key, let summary = MappedFile(cachePath)?.withBytes({ TickCache.read($0, key: key, body) }) {
            say("cache: read \(cachePath)")
            for line in summary.rejectedLines { say(line) }
            return Outcome(rejected: summary.rejectedCount)
        }
        guard let reader = ChunkedFile(path: path) else { return nil }
        let writer = key.flatMap { TickCache.Writer(path: cachePath, key: $0) }
        var outcome = Outcome()
        var lines: [String] = []
        var index = 0
        reader.forEachDecoded(format: format) { result in
            for tick in result.ticks { body(tick) }
            if let writer { for tick in result.ticks { writer.add(tick) } }
            for r in result.rejected {
                outcome.rejected += 1
                if lines.count < BarCache.keptLines {
                    let line = "rejected tick \(index + r.index): \(r.description)"
                    lines.append(line)
                    say(line)
                }
            }
            index += result.ticks.count + result.rejected.count
            if let e = result.documentError { outcome.documentError = e }
            return true
        }
        // A parse that stopped early is not kept: the next run reads the file again.
        if let writer, outcome.documentError == nil {
            say(writer.finish(rejectedCount: outcome.rejected, rejectedLines: lines)
                ? "cache: wrote \(cachePath)" : "cache: could not write \(cachePath); the next run parses the file again")
        }
        return outcome
    }

    private func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}
