/**
 * Counts, on the client side, how many reports of one installation run at once: a report starts
 * when it reads the balances and ends when its result is emitted.
 */
export class ReportConcurrency {
  private readonly running = new Map<string, number>()
  max = 0
  started(installationId: string): void {
    const now = (this.running.get(installationId) ?? 0) + 1
    this.running.set(installationId, now)
    this.max = Math.max(this.max, now)
  }
  ended(installationId: string): void {
    const left = (this.running.get(installationId) ?? 0) - 1
    if (left <= 0) this.running.delete(installationId)
    else this.running.set(installationId, left)
  }
}
