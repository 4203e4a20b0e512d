import ArgumentParser
import Foundation
import Markets

/// `--markets off | on | FILE` for the batch commands (replay, backtest, sweep): each symbol on
/// its venue's clock (docs/MARKETS.md), with the built-in venues or a markets file over them.
struct MarketsOption: ParsableArguments {
    @Option(help: ArgumentHelp("Venue clocks: off (UTC clock buckets around the clock), on (the built-in venues, with Config/markets.json when present), or a markets file.",
                               valueName: "off|on|file"))
    var markets = "off"

    /// The directory, or exit 2 naming the command and the problem.
    func directory(command: String) -> MarketDirectory {
        func fail(_ message: String) -> Never {
            FileHandle.standardError.write(Data("dongfeng \(command): --markets: \(message)\n".utf8))
            Foundation.exit(2)
        }
        do {
            switch markets {
            case "off": return .off
            case "on":
                guard let data = FileManager.default.contents(atPath: "Config/markets.json") else { return try .builtin(zones: .system) }
                return try MarketDirectory.load(json: data, zones: .system)
            default:
                guard let data = FileManager.default.contents(atPath: markets) else { fail("cannot read \(markets)") }
                return try MarketDirectory.load(json: data, zones: .system)
            }
        } catch {
            fail("\(error)")
        }
    }
}
