import Domain
import Testing

@testable import API

/// The handlers convert Domain enums to the contract's with `init(rawValue:)`: a Domain case the contract lacks would
/// stop the server on the first response that carries it. Every case must have its contract twin.
@Suite("Domain enums and the contract")
struct ContractEnumsTests {
    @Test func everyDomainCaseHasItsTwinInTheContract() {
        for state in MissionState.allCases { #expect(Components.Schemas.MissionState(rawValue: state.rawValue) != nil, "\(state)") }
        for action in MissionAction.allCases { #expect(Components.Schemas.MissionAction(rawValue: action.rawValue) != nil, "\(action)") }
        for state in CardState.allCases { #expect(Components.Schemas.CardState(rawValue: state.rawValue) != nil, "\(state)") }
        for action in CardAction.allCases { #expect(Components.Schemas.CardAction(rawValue: action.rawValue) != nil, "\(action)") }
        for kind in DocumentKind.allCases { #expect(Components.Schemas.DocumentKind(rawValue: kind.rawValue) != nil, "\(kind)") }
        for priority in NeedPriority.allCases { #expect(Components.Schemas.NeedPriority(rawValue: priority.rawValue) != nil, "\(priority)") }
    }
}
