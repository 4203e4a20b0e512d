import ArgumentParser
import Contracts
import Foundation
import Pipeline
import Research
import Synchronization

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a strategy over a grid of its parameters and rank the combinations.",
        discussion: """
            The input is read once; the grid runs on every core. Combinations are ranked by --metric \
            on the first --train share of each symbol's bars, with their figures on the held-out rest \
            beside them; in-sample winners that fall apart out of sample are flagged. Trades follow \
            `dongfeng backtest` (docs/RESEARCH.md). Exit 2 on a bad grid (over 10,000 combinations, \
            an unknown parameter, an empty range), bad options or an unreadable input.
            """
    )

    @OptionGroup var options: ResearchOptions
    @Option(help: "The strategy to sweep (a rule's params, or a built-in's settings).")
    var strategy: String
    @Option(name: .customLong("param"), help: ArgumentHelp("name=start:stop:step (stop included), name=a,b,c or name=value. Repeat per parameter.", valueName: "grid"))
    var params: [String] = []
    @Option(help: "Ranking: \(SweepMetric.allCases.map(\.rawValue).joined(separator: ", ")) (max_drawdown: lowest first).")
    var metric = "sharpe"
    @Option(help: "Share of each symbol's bars to rank on, e.g. 70% (the rest is held out).")
    var train = "100%"
    @Option(name: .customLong("walk-forward"), help: "Folds K: the bars in K+1 parts; fold k ranks on part k-1 and tests its best on part k.")
    var walkForward = 0
    @Option(help: "Threads (default: every core).")
    var jobs = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Rows of the ranked table to print.")
    var top = 20
    @Option(help: "Write every combination as CSV to this file.")
    var csv: String?
    @Option(help: "Write every combination as JSON to this file.")
    var json: String?
    @Option(help: "Write a heatmap of a 2-parameter grid as SVG to this file.")
    var heatmap: String?

    func run() throws {
        guard !params.isEmpty else { fail("give at least one --param name=start:stop:step") }
        var grid: [SweepParameter] = []
        var settings = SweepSettings()
        do {
            for text in params { grid.append(try SweepParameter(text)) }
        } catch {
            fail(error.message)
        }
        guard let m = SweepMetric(rawValue: metric) else {
            fail("--metric \(metric.debugDescription): use \(SweepMetric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        settings.metric = m
        let share = Double(train.hasSuffix("%") ? String(train.dropLast()) : train).map { train.hasSuffix("%") || $0 > 1 ? $0 / 100 : $0 }
        guard let share, share > 0, share <= 1 else { fail("--train \(train.debugDescription): give a share such as 70% (above 0, at most 100%)") }
        settings.trainFraction = share
        guard (0...50).contains(walkForward) else { fail("--walk-forward must be 0…50 folds") }
        settings.walkForward = walkForward
        guard jobs >= 1, jobs <= 256 else { fail("--jobs must be 1…256") }
        settings.jobs = jobs
        guard top >= 1 else { fail("--top must be at least 1") }
        let registry: StrategyRegistry
        do {
            settings.backtest.trade = try options.trade()
            registry = try ResearchInput.strategies(file: options.strategiesFile, names: nil, requireEnabled: false)
        } catch {
            fail(error.message)
        }
        let started = Date()
        let loaded = try options.load(command: "sweep")
        let bars = loaded.bars()
        guard !bars.isEmpty else { fail("\(options.input): no bars to test") }
        let meter = ProgressMeter(started: started)
        let result: SweepResult
        do {
            result = try Sweep.run(bars: bars, interval: loaded.interval, registry: registry, strategy: strategy, grid: grid,
                                   settings: settings) { done, total in meter.update(done, total) }
        } catch {
            fail(error.message)
        }
        meter.finish()
        print(SweepReport.table(result, limit: top), terminator: "")
        if let csv, !FileManager.default.createFile(atPath: csv, contents: Data(SweepReport.csv(result).utf8)) {
            fail("--csv: cannot write \(csv)")
        }
        if let json, !FileManager.default.createFile(atPath: json, contents: Data(SweepReport.json(result))) {
            fail("--json: cannot write \(json)")
        }
        if let heatmap {
            guard let svg = SweepReport.heatmap(result) else { fail("--heatmap needs a grid of exactly 2 parameters") }
            guard FileManager.default.createFile(atPath: heatmap, contents: Data(svg.utf8)) else { fail("--heatmap: cannot write \(heatmap)") }
        }
        let flagged = result.rows.prefix(top).filter(\.fallsApart).count
        FileHandle.standardError.write(Data("""
            sweep: \(result.rows.count) combinations (\(result.invalid.count) refused by the strategy) over \(bars.count) bars on \
            \(min(jobs, result.rows.count)) threads in \(String(format: "%.2f", Date().timeIntervalSince(started))) s\
            \(settings.trainFraction < 1 ? "; \(flagged) of the top \(min(top, result.rows.count)) fall apart out of sample" : "")

            """.utf8))
        if let first = result.invalid.first {
            FileHandle.standardError.write(Data("refused combination \(zip(result.parameters, first.values).map { "\($0)=\($1)" }.joined(separator: ",")): \(first.message)\n".utf8))
        }
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("dongfeng sweep: \(message)\n".utf8))
        Foundation.exit(2)
    }
}

/// A progress bar on stderr once a run has taken a second: redrawn in place on a terminal,
/// a line every quarter otherwise.
final class ProgressMeter: Sendable {
    private let started: Date
    private let state = Mutex<(shownAt: Double, quarter: Int, drawn: Bool)>((0, 0, false))
    private let terminal = isatty(2) != 0

    init(started: Date) { self.started = started }

    func update(_ done: Int, _ total: Int) {
        let elapsed = Date().timeIntervalSince(started)
        guard elapsed >= 1, total > 0 else { return }
        let fraction = min(1, Double(done) / Double(total))
        let line: String? = state.withLock { s in
            if terminal {
                guard elapsed - s.shownAt >= 0.1 || done >= total else { return nil }
                s.shownAt = elapsed
                s.drawn = true
                let width = 30, filled = Int(fraction * Double(width))
                return "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
                    + "] \(Int(fraction * 100))%  \(String(format: "%.1f", elapsed)) s"
            }
            let quarter = Int(fraction * 4)
            guard quarter > s.quarter else { return nil }
            s.quarter = quarter
            return "sweep: \(quarter * 25)% after \(String(format: "%.1f", elapsed)) s\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    func finish() {
        if terminal, state.withLock({ $0.drawn }) { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
