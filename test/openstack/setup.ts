import { labCloud } from './lab.js';

/** Fails the whole lab suite at once, with the reason, when the lab is not reachable. */
export default async function setup(): Promise<void> {
  const cloud = labCloud('demo');
  try {
    await cloud.session.token();
  } catch (err) {
    throw new Error(`the OpenStack lab does not answer: ${(err as Error).message}`);
  } finally {
    await cloud.close();
  }
}
