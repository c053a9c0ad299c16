/**
 * One page of a server-paged list (households, the device board, service tickets; docs/operations.md
 * §scale): an answer to an older question is dropped, and a page past the end (rows gone, a narrower
 * filter) becomes the last page.
 */
import { ref, shallowRef, type Ref, type ShallowRef } from 'vue'

interface PageLike {
  items: readonly unknown[]
  total: number
}

export function usePaged<P extends PageLike, I extends P | null>(
  fetchPage: (offset: number, background: boolean) => Promise<P>,
  limit: number,
  initial: I,
): { page: ShallowRef<P | I>; offset: Ref<number>; loading: Ref<boolean>; failed: Ref<boolean>; load: (background?: boolean) => Promise<void> } {
  const page = shallowRef(initial) as ShallowRef<P | I>
  const offset = ref(0)
  const loading = ref(true)
  const failed = ref(false)
  let asked = 0
  async function load(background = false): Promise<void> {
    const ask = ++asked
    try {
      const p = await fetchPage(offset.value, background)
      if (ask !== asked) return
      if (p.items.length === 0 && p.total > 0 && offset.value > 0) {
        offset.value = Math.floor((p.total - 1) / limit) * limit
        return
      }
      page.value = p
      failed.value = false
    } catch {
      if (ask === asked) failed.value = true
    } finally {
      if (ask === asked) loading.value = false
    }
  }
  return { page, offset, loading, failed, load }
}
