// A readiness probe that only checks a TCP port accepts connections (the MQTT broker in distributed mode).
import { connect } from 'node:net';

export function tcpProbe(host: string, port: number): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', (error) => {
        socket.destroy();
        reject(error);
      });
    });
}
