export interface User { id: string; username: string; displayName: string; role: string; communityIds: string[] }
export interface Community { id: string; name: string; street: string }
export interface HouseholdBrief { elderName: string; address: string; phone?: string | null }
export interface Incident {
  id: string; householdId: string; communityId: string; deviceId: string; category: string; type: string; priority: number
  state: 'open' | 'acknowledged' | 'resolved'; cancelledByResident: boolean; openedAt: number; acknowledgedAt: number | null
  acknowledgedBy: string | null; updatedAt: number; conditions: string[]; conditionCleared: boolean
  explanation: { zh: string; en: string } | null; household?: HouseholdBrief | null
}
export interface IncidentEvent { incidentId: string; at: number; actor: string; kind: string; deviceId: string | null; detail: Record<string, any> }
export interface Household {
  id: string; communityId: string; elderName: string; age: number | null; address: string; phone: string | null
  medicalNotes: string | null; awayUntil: number | null
}
export interface Contact { id: string; name: string; relation: string; phone: string; position: number; channels: string[]; availableFrom: string | null; availableTo: string | null }
export interface Device { id: string; kind: string; room: string | null; heartbeatS: number; lastSeenAt: number | null; online: boolean | null; battery: number | null; fw: string | null }
export interface ServiceLevel { open: number; acknowledgedToday: number; medianAckS: number | null; p90AckS: number | null; within60sShare: number | null }
export interface DeviceRow extends Device { householdId: string }
