import { createHttpHeaders, type PipelineRequest } from '@azure/core-rest-pipeline';
import { AzureSASCredential, TableClient } from '@azure/data-tables';
import { TableRequests, type TransactionStep } from '../../../src/adapters/tables/tableRequests';
import { serviceCodeOf, statusOf } from '../../../src/adapters/tables/tableErrors';

/**
 * The transaction's wire format, offline: a last policy on the client's pipeline answers in the
 * service's place (TableRequests sends through a clone of that pipeline), and keeps what was sent.
 */
function clientAnswering(answer: string) {
  const sent: PipelineRequest[] = [];
  const client = new TableClient(
    'https://account.table.core.windows.net/?sv=2019-02-02&sig=SECRET',
    'auth',
    new AzureSASCredential('sv=2019-02-02&sig=SECRET'),
    { retryOptions: { maxRetries: 0 } },
  );
  client.pipeline.addPolicy({
    name: 'answer in the service place',
    sendRequest: async (request) => {
      sent.push(request);
      return {
        request,
        status: 202,
        headers: createHttpHeaders({ 'content-type': 'multipart/mixed; boundary=batchresponse_1' }),
        bodyAsText: answer,
      };
    },
  });
  return { requests: new TableRequests(client), sent };
}

const subResponse = (status: string, body = '') =>
  `--changesetresponse_2\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 ${status}\r\nDataServiceVersion: 3.0;\r\n\r\n${body}\r\n`;
const batchAnswer = (...parts: string[]) =>
  `--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n${parts.join('')}--changesetresponse_2--\r\n--batchresponse_1--\r\n`;

const steps: TransactionStep[] = [
  { kind: 'merge', entity: { partitionKey: 'p', rowKey: 'f.1', consumedAtMs: 1 }, etag: 'W/"e"' },
  { kind: 'insert', entity: { partitionKey: 'p', rowKey: 's.1', user: '{}' } },
];
const options = () => ({ abortSignal: AbortSignal.timeout(5_000) });

describe('TableRequests transactions (offline)', () => {
  it("when the client's URL carries a SAS, then the sub-requests in the batch body do not", async () => {
    const { requests, sent } = clientAnswering(
      batchAnswer(subResponse('204 No Content'), subResponse('204 No Content')),
    );
    await requests.transaction(steps, options());
    const body = String(sent[0]?.body);
    expect(body).toContain(
      "PATCH https://account.table.core.windows.net/auth(PartitionKey='p',RowKey='f.1') HTTP/1.1",
    );
    expect(body).toContain('If-Match: W/"e"');
    expect(body).not.toContain('SECRET');
  });

  it('when a step fails, then its status and the service code are the error', async () => {
    const { requests } = clientAnswering(
      batchAnswer(
        subResponse(
          '412 Precondition Failed',
          '{"odata.error":{"code":"UpdateConditionNotSatisfied","message":{"lang":"en-US","value":"0:changed"}}}',
        ),
      ),
    );
    const error = await requests.transaction(steps, options()).catch((e: unknown) => e);
    expect([statusOf(error), serviceCodeOf(error)]).toEqual([412, 'UpdateConditionNotSatisfied']);
  });

  it('when fewer steps are answered than were sent, or none can be read, then it is a failure, never a success', async () => {
    const short = clientAnswering(batchAnswer(subResponse('204 No Content')));
    await expect(short.requests.transaction(steps, options())).rejects.toThrow(
      /1 of a transaction's 2 steps/,
    );
    const garbled = clientAnswering('<html>gateway</html>');
    await expect(garbled.requests.transaction(steps, options())).rejects.toThrow(
      /no readable result/,
    );
  });
});
