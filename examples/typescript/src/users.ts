/** A stand-in for a database lookup: user 1 exists, no other. */
export async function loadUser(id: string): Promise<{ id: string; name: string } | undefined> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return id === '1' ? { id, name: 'Ada' } : undefined;
}
