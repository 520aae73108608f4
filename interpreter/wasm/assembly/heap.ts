// Buffers for the kernel. An instance serves one model and allocates its buffers once, never freeing them,
// so the runtime's bump allocator (--runtime stub) is all it needs. Everything goes through that one
// allocator: `new` in the kernel's classes uses it too, and a second allocator would hand out the same bytes.

/** `bytes` zeroed bytes, 16-byte aligned; memory grows on demand. */
export function alloc(bytes: usize): usize {
  const ptr = heap.alloc(bytes);
  memory.fill(ptr, 0, bytes);
  return ptr;
}
