import ArgumentParser
import Domain
import Foundation
import Storage

/// `mdp bench missions`: the workflow's write and delta-read costs on a scratch database, each against a floor
/// measured in the same run (the cheapest write transaction, the cheapest read). Used by `bench/missions.sh`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (see bench/).", subcommands: [Missions.self])

    struct Missions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mission transitions and delta reads on a scratch database.")

        @Option(help: "A scratch folder (it is filled, not cleaned).")
        var dataDir: String

        @Option(help: "How many missions to create.")
        var missions = 10_000

        @Option(help: "How many transitions to time.")
        var transitions = 2_000

        func run() async throws {
            let today = Date(timeIntervalSince1970: 1_710_493_200)  // 2024-03-15
            let database = try AppDatabase.file(inDirectory: dataDir, options: .init(clock: { today }, bcryptCost: 4))
            let admin = try database.createAccount(email: "bench@ftl.fr", password: nil, role: .admin, displayName: "Bench")
            var generator = SeededGenerator(seed: 42)
            var demo = DemoData(random: generator)
            let experts = try (0..<10).map { index in
                try database.importExpert(demo.expertContent(index), state: .published)
            }
            var members: [Account] = []
            for index in 0..<100 {
                let laureate = try database.createLaureate(
                    name: "Bench \(index)", legalEntity: "SCIC", siret: "44306184100047", communeINSEE: "42218",
                    communeName: "Saint-Étienne",
                    departmentCode: "42", territoryTypes: [.rural], cohort: 1, sectors: [], supportCeilingCents: 2_000_000,
                    settings: .manufacturesDeProximite, by: admin)
                let member = try database.createAccount(
                    email: "m\(index)@bench.fr", password: nil, role: .laureate, displayName: "M", link: .laureate(id: laureate.id))
                _ = try database.reviseFramingNote(
                    laureateID: laureate.id, needs: [Need(subthemeCode: "4.2", priority: .high, description: "")], by: member)
                members.append(member)
            }

            var ids: [String] = []
            let requestTime = try measure(missions) { index in
                let member = members[index % members.count]
                let expert = experts[generator.next(upperBound: experts.count)]
                ids.append(
                    try database.requestMission(
                        title: "Mission \(index)", subthemeCodes: ["4.2"], expertID: expert.expertID, laureateIDs: [member.laureateID!],
                        by: member
                    ).mission.id)
            }
            let writeFloor = try measure(transitions) { _ in try database.referenceWrite() }
            let transitionTime = try measure(transitions) { index in
                let record = try database.mission(id: ids[index], for: admin)
                let expert = experts.first { $0.expertID == record.mission.expertID }!.account
                _ = try database.transitionMission(id: ids[index], command: .scope, by: expert, ifRevision: nil)
            }
            guard case .intact(let events) = try database.verifyAuditChain() else { throw ExitCode(3) }

            // Delta reads: what changed for one expert after 90 % of the history.
            let allRevisions = try database.missions(for: admin, updatedAfter: 0, limit: missions + transitions).missions.map(\.revision)
            let cursor = allRevisions[allRevisions.count * 9 / 10]
            let expert = experts[0].account
            let readFloor = try measure(500) { _ in try database.referenceRead() }
            var changed = 0
            let deltaTime = try measure(500) { _ in
                changed = try database.missions(for: expert, updatedAfter: cursor, limit: 100).missions.count
            }
            let fullTime = try measure(50) { _ in _ = try database.missions(for: expert, updatedAfter: 0, limit: 100).missions.count }

            func perSecond(_ seconds: Double, _ count: Int) -> String { String(format: "%.0f", Double(count) / seconds) }
            func ms(_ seconds: Double, _ count: Int) -> String { String(format: "%.3f ms", seconds / Double(count) * 1000) }
            print(
                """
                | measure | value | reference in the same run | ratio |
                |---|---|---|---|
                | mission requests (rules + audit event), per second | \(perSecond(requestTime, missions)) | cheapest write transaction: \(perSecond(writeFloor, transitions))/s | \(String(format: "%.0f %%", writeFloor / Double(transitions) / (requestTime / Double(missions)) * 100)) |
                | `scope` transitions (rules + budgets + audit), per second | \(perSecond(transitionTime, transitions)) | cheapest write transaction: \(perSecond(writeFloor, transitions))/s | \(String(format: "%.0f %%", writeFloor / transitionTime * 100)) |
                | `updated_after` delta for one expert (\(changed) changed), per query | \(ms(deltaTime, 500)) | `SELECT 1`: \(ms(readFloor, 500)) | \(String(format: "%.1f×", deltaTime / readFloor)) |
                | first page (100) for one expert without cursor, per query | \(ms(fullTime, 50)) | `SELECT 1`: \(ms(readFloor, 500)) | \(String(format: "%.1f×", fullTime / 50 / (readFloor / 500))) |

                \(missions) missions, \(events) audit events verified intact.
                """)
        }

        func measure(_ count: Int, _ body: (Int) throws -> Void) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            for index in 0..<count { try body(index) }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
    }
}
