import * as $protobuf from "protobufjs";
import Long = require("long");

export namespace tandem {

    namespace v1 {

        class Coordinator extends $protobuf.rpc.Service {
            constructor(rpcImpl: $protobuf.RPCImpl, requestDelimited?: boolean, responseDelimited?: boolean);
            static create(rpcImpl: $protobuf.RPCImpl, requestDelimited?: boolean, responseDelimited?: boolean): Coordinator;
            connect: tandem.v1.Coordinator.Connect;
            submitJob: tandem.v1.Coordinator.SubmitJob;
            getJob: tandem.v1.Coordinator.GetJob;
            watchJob: tandem.v1.Coordinator.WatchJob;
            listJobs: tandem.v1.Coordinator.ListJobs;
            cancelJob: tandem.v1.Coordinator.CancelJob;
            signExport: tandem.v1.Coordinator.SignExport;
            describeFederation: tandem.v1.Coordinator.DescribeFederation;
        }

        namespace Coordinator {
            type ConnectCallback = (error: (Error|null), response?: tandem.v1.Frame) => void;
            type Connect = {
              (request: tandem.v1.IFrame, callback: tandem.v1.Coordinator.ConnectCallback): void;
              (request: tandem.v1.IFrame): Promise<tandem.v1.Frame>;
              readonly name: "Connect";
              readonly path: "/tandem.v1.Coordinator/Connect";
              readonly requestType: "Frame";
              readonly responseType: "Frame";
              readonly requestStream: true;
              readonly responseStream: true;
            };
            type SubmitJobCallback = (error: (Error|null), response?: tandem.v1.JobStatus) => void;
            type SubmitJob = {
              (request: tandem.v1.ISubmitJobRequest, callback: tandem.v1.Coordinator.SubmitJobCallback): void;
              (request: tandem.v1.ISubmitJobRequest): Promise<tandem.v1.JobStatus>;
              readonly name: "SubmitJob";
              readonly path: "/tandem.v1.Coordinator/SubmitJob";
              readonly requestType: "SubmitJobRequest";
              readonly responseType: "JobStatus";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type GetJobCallback = (error: (Error|null), response?: tandem.v1.JobStatus) => void;
            type GetJob = {
              (request: tandem.v1.IJobRef, callback: tandem.v1.Coordinator.GetJobCallback): void;
              (request: tandem.v1.IJobRef): Promise<tandem.v1.JobStatus>;
              readonly name: "GetJob";
              readonly path: "/tandem.v1.Coordinator/GetJob";
              readonly requestType: "JobRef";
              readonly responseType: "JobStatus";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type WatchJobCallback = (error: (Error|null), response?: tandem.v1.JobStatus) => void;
            type WatchJob = {
              (request: tandem.v1.IJobRef, callback: tandem.v1.Coordinator.WatchJobCallback): void;
              (request: tandem.v1.IJobRef): Promise<tandem.v1.JobStatus>;
              readonly name: "WatchJob";
              readonly path: "/tandem.v1.Coordinator/WatchJob";
              readonly requestType: "JobRef";
              readonly responseType: "JobStatus";
              readonly requestStream: undefined;
              readonly responseStream: true;
            };
            type ListJobsCallback = (error: (Error|null), response?: tandem.v1.ListJobsResponse) => void;
            type ListJobs = {
              (request: tandem.v1.IListJobsRequest, callback: tandem.v1.Coordinator.ListJobsCallback): void;
              (request: tandem.v1.IListJobsRequest): Promise<tandem.v1.ListJobsResponse>;
              readonly name: "ListJobs";
              readonly path: "/tandem.v1.Coordinator/ListJobs";
              readonly requestType: "ListJobsRequest";
              readonly responseType: "ListJobsResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type CancelJobCallback = (error: (Error|null), response?: tandem.v1.JobStatus) => void;
            type CancelJob = {
              (request: tandem.v1.IJobRef, callback: tandem.v1.Coordinator.CancelJobCallback): void;
              (request: tandem.v1.IJobRef): Promise<tandem.v1.JobStatus>;
              readonly name: "CancelJob";
              readonly path: "/tandem.v1.Coordinator/CancelJob";
              readonly requestType: "JobRef";
              readonly responseType: "JobStatus";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type SignExportCallback = (error: (Error|null), response?: tandem.v1.SignExportResponse) => void;
            type SignExport = {
              (request: tandem.v1.ISignExportRequest, callback: tandem.v1.Coordinator.SignExportCallback): void;
              (request: tandem.v1.ISignExportRequest): Promise<tandem.v1.SignExportResponse>;
              readonly name: "SignExport";
              readonly path: "/tandem.v1.Coordinator/SignExport";
              readonly requestType: "SignExportRequest";
              readonly responseType: "SignExportResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type DescribeFederationCallback = (error: (Error|null), response?: tandem.v1.FederationView) => void;
            type DescribeFederation = {
              (request: tandem.v1.IDescribeFederationRequest, callback: tandem.v1.Coordinator.DescribeFederationCallback): void;
              (request: tandem.v1.IDescribeFederationRequest): Promise<tandem.v1.FederationView>;
              readonly name: "DescribeFederation";
              readonly path: "/tandem.v1.Coordinator/DescribeFederation";
              readonly requestType: "DescribeFederationRequest";
              readonly responseType: "FederationView";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
        }

        class Scoring extends $protobuf.rpc.Service {
            constructor(rpcImpl: $protobuf.RPCImpl, requestDelimited?: boolean, responseDelimited?: boolean);
            static create(rpcImpl: $protobuf.RPCImpl, requestDelimited?: boolean, responseDelimited?: boolean): Scoring;
            score: tandem.v1.Scoring.Score;
            scoreBatch: tandem.v1.Scoring.ScoreBatch;
            health: tandem.v1.Scoring.Health;
            modelInfo: tandem.v1.Scoring.ModelInfo;
        }

        namespace Scoring {
            type ScoreCallback = (error: (Error|null), response?: tandem.v1.ScoreResponse) => void;
            type Score = {
              (request: tandem.v1.IScoreRequest, callback: tandem.v1.Scoring.ScoreCallback): void;
              (request: tandem.v1.IScoreRequest): Promise<tandem.v1.ScoreResponse>;
              readonly name: "Score";
              readonly path: "/tandem.v1.Scoring/Score";
              readonly requestType: "ScoreRequest";
              readonly responseType: "ScoreResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type ScoreBatchCallback = (error: (Error|null), response?: tandem.v1.ScoreBatchResponse) => void;
            type ScoreBatch = {
              (request: tandem.v1.IScoreBatchRequest, callback: tandem.v1.Scoring.ScoreBatchCallback): void;
              (request: tandem.v1.IScoreBatchRequest): Promise<tandem.v1.ScoreBatchResponse>;
              readonly name: "ScoreBatch";
              readonly path: "/tandem.v1.Scoring/ScoreBatch";
              readonly requestType: "ScoreBatchRequest";
              readonly responseType: "ScoreBatchResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type HealthCallback = (error: (Error|null), response?: tandem.v1.HealthResponse) => void;
            type Health = {
              (request: tandem.v1.IHealthRequest, callback: tandem.v1.Scoring.HealthCallback): void;
              (request: tandem.v1.IHealthRequest): Promise<tandem.v1.HealthResponse>;
              readonly name: "Health";
              readonly path: "/tandem.v1.Scoring/Health";
              readonly requestType: "HealthRequest";
              readonly responseType: "HealthResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
            type ModelInfoCallback = (error: (Error|null), response?: tandem.v1.ModelInfoResponse) => void;
            type ModelInfo = {
              (request: tandem.v1.IModelInfoRequest, callback: tandem.v1.Scoring.ModelInfoCallback): void;
              (request: tandem.v1.IModelInfoRequest): Promise<tandem.v1.ModelInfoResponse>;
              readonly name: "ModelInfo";
              readonly path: "/tandem.v1.Scoring/ModelInfo";
              readonly requestType: "ModelInfoRequest";
              readonly responseType: "ModelInfoResponse";
              readonly requestStream: undefined;
              readonly responseStream: undefined;
            };
        }

        interface IFrame extends tandem.v1.Frame.$Properties {
        }

        class Frame {
            constructor(properties?: tandem.v1.Frame.$Properties);
            $unknowns?: Uint8Array[];
            hello?: (tandem.v1.Hello.$Properties|null);
            welcome?: (tandem.v1.Welcome.$Properties|null);
            heartbeat?: (tandem.v1.Heartbeat.$Properties|null);
            chunk?: (tandem.v1.Chunk.$Properties|null);
            ack?: (tandem.v1.Ack.$Properties|null);
            goodbye?: (tandem.v1.Goodbye.$Properties|null);
            body?: ("hello"|"welcome"|"heartbeat"|"chunk"|"ack"|"goodbye");
            static create(properties: tandem.v1.Frame.$Shape): tandem.v1.Frame & tandem.v1.Frame.$Shape;
            static create(properties?: tandem.v1.Frame.$Properties): tandem.v1.Frame;
            static encode(message: tandem.v1.Frame.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Frame & tandem.v1.Frame.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Frame {
            interface $Properties {
                hello?: (tandem.v1.Hello.$Properties|null);
                welcome?: (tandem.v1.Welcome.$Properties|null);
                heartbeat?: (tandem.v1.Heartbeat.$Properties|null);
                chunk?: (tandem.v1.Chunk.$Properties|null);
                ack?: (tandem.v1.Ack.$Properties|null);
                goodbye?: (tandem.v1.Goodbye.$Properties|null);
                body?: ("hello"|"welcome"|"heartbeat"|"chunk"|"ack"|"goodbye");
                $unknowns?: Uint8Array[];
            }
            type $Shape = {
              hello?: tandem.v1.Hello.$Shape|null;
              welcome?: tandem.v1.Welcome.$Shape|null;
              heartbeat?: tandem.v1.Heartbeat.$Shape|null;
              chunk?: tandem.v1.Chunk.$Shape|null;
              ack?: tandem.v1.Ack.$Shape|null;
              goodbye?: tandem.v1.Goodbye.$Shape|null;
              $unknowns?: Uint8Array[];
            } & (
              ({ body?: undefined; hello?: null; welcome?: null; heartbeat?: null; chunk?: null; ack?: null; goodbye?: null }|{ body?: "hello"; hello: tandem.v1.Hello.$Shape; welcome?: null; heartbeat?: null; chunk?: null; ack?: null; goodbye?: null }|{ body?: "welcome"; hello?: null; welcome: tandem.v1.Welcome.$Shape; heartbeat?: null; chunk?: null; ack?: null; goodbye?: null }|{ body?: "heartbeat"; hello?: null; welcome?: null; heartbeat: tandem.v1.Heartbeat.$Shape; chunk?: null; ack?: null; goodbye?: null }|{ body?: "chunk"; hello?: null; welcome?: null; heartbeat?: null; chunk: tandem.v1.Chunk.$Shape; ack?: null; goodbye?: null }|{ body?: "ack"; hello?: null; welcome?: null; heartbeat?: null; chunk?: null; ack: tandem.v1.Ack.$Shape; goodbye?: null }|{ body?: "goodbye"; hello?: null; welcome?: null; heartbeat?: null; chunk?: null; ack?: null; goodbye: tandem.v1.Goodbye.$Shape })
            );
        }

        interface IHello extends tandem.v1.Hello.$Properties {
        }

        class Hello {
            constructor(properties?: tandem.v1.Hello.$Properties);
            $unknowns?: Uint8Array[];
            protocolVersion: number;
            party: string;
            software: string;
            static create(properties: tandem.v1.Hello.$Shape): tandem.v1.Hello & tandem.v1.Hello.$Shape;
            static create(properties?: tandem.v1.Hello.$Properties): tandem.v1.Hello;
            static encode(message: tandem.v1.Hello.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Hello & tandem.v1.Hello.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Hello {
            interface $Properties {
                protocolVersion?: (number|null);
                party?: (string|null);
                software?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Hello.$Properties;
        }

        interface IWelcome extends tandem.v1.Welcome.$Properties {
        }

        class Welcome {
            constructor(properties?: tandem.v1.Welcome.$Properties);
            $unknowns?: Uint8Array[];
            protocolVersion: number;
            coordinator: string;
            maxChunkBytes: number;
            maxMessageBytes: number;
            static create(properties: tandem.v1.Welcome.$Shape): tandem.v1.Welcome & tandem.v1.Welcome.$Shape;
            static create(properties?: tandem.v1.Welcome.$Properties): tandem.v1.Welcome;
            static encode(message: tandem.v1.Welcome.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Welcome & tandem.v1.Welcome.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Welcome {
            interface $Properties {
                protocolVersion?: (number|null);
                coordinator?: (string|null);
                maxChunkBytes?: (number|null);
                maxMessageBytes?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Welcome.$Properties;
        }

        interface IHeartbeat extends tandem.v1.Heartbeat.$Properties {
        }

        class Heartbeat {
            constructor(properties?: tandem.v1.Heartbeat.$Properties);
            $unknowns?: Uint8Array[];
            sentAtMs: number;
            static create(properties: tandem.v1.Heartbeat.$Shape): tandem.v1.Heartbeat & tandem.v1.Heartbeat.$Shape;
            static create(properties?: tandem.v1.Heartbeat.$Properties): tandem.v1.Heartbeat;
            static encode(message: tandem.v1.Heartbeat.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Heartbeat & tandem.v1.Heartbeat.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Heartbeat {
            interface $Properties {
                sentAtMs?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Heartbeat.$Properties;
        }

        interface IChunk extends tandem.v1.Chunk.$Properties {
        }

        class Chunk {
            constructor(properties?: tandem.v1.Chunk.$Properties);
            $unknowns?: Uint8Array[];
            messageId: string;
            index: number;
            count: number;
            totalBytes: number;
            sha256: Uint8Array;
            data: Uint8Array;
            static create(properties: tandem.v1.Chunk.$Shape): tandem.v1.Chunk & tandem.v1.Chunk.$Shape;
            static create(properties?: tandem.v1.Chunk.$Properties): tandem.v1.Chunk;
            static encode(message: tandem.v1.Chunk.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Chunk & tandem.v1.Chunk.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Chunk {
            interface $Properties {
                messageId?: (string|null);
                index?: (number|null);
                count?: (number|null);
                totalBytes?: (number|null);
                sha256?: (Uint8Array|null);
                data?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Chunk.$Properties;
        }

        interface IAck extends tandem.v1.Ack.$Properties {
        }

        class Ack {
            constructor(properties?: tandem.v1.Ack.$Properties);
            $unknowns?: Uint8Array[];
            messageId: string;
            static create(properties: tandem.v1.Ack.$Shape): tandem.v1.Ack & tandem.v1.Ack.$Shape;
            static create(properties?: tandem.v1.Ack.$Properties): tandem.v1.Ack;
            static encode(message: tandem.v1.Ack.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Ack & tandem.v1.Ack.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Ack {
            interface $Properties {
                messageId?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Ack.$Properties;
        }

        interface IGoodbye extends tandem.v1.Goodbye.$Properties {
        }

        class Goodbye {
            constructor(properties?: tandem.v1.Goodbye.$Properties);
            $unknowns?: Uint8Array[];
            code: string;
            message: string;
            static create(properties: tandem.v1.Goodbye.$Shape): tandem.v1.Goodbye & tandem.v1.Goodbye.$Shape;
            static create(properties?: tandem.v1.Goodbye.$Properties): tandem.v1.Goodbye;
            static encode(message: tandem.v1.Goodbye.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Goodbye & tandem.v1.Goodbye.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Goodbye {
            interface $Properties {
                code?: (string|null);
                message?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Goodbye.$Properties;
        }

        interface IEnvelope extends tandem.v1.Envelope.$Properties {
        }

        class Envelope {
            constructor(properties?: tandem.v1.Envelope.$Properties);
            $unknowns?: Uint8Array[];
            id: string;
            jobId: string;
            round: number;
            step: string;
            sender: string;
            recipient: string;
            seq: number;
            kind: string;
            body: Uint8Array;
            sealed: boolean;
            sentAtMs: number;
            static create(properties: tandem.v1.Envelope.$Shape): tandem.v1.Envelope & tandem.v1.Envelope.$Shape;
            static create(properties?: tandem.v1.Envelope.$Properties): tandem.v1.Envelope;
            static encode(message: tandem.v1.Envelope.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Envelope & tandem.v1.Envelope.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Envelope {
            interface $Properties {
                id?: (string|null);
                jobId?: (string|null);
                round?: (number|null);
                step?: (string|null);
                sender?: (string|null);
                recipient?: (string|null);
                seq?: (number|null);
                kind?: (string|null);
                body?: (Uint8Array|null);
                sealed?: (boolean|null);
                sentAtMs?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Envelope.$Properties;
        }

        interface ISubmitJobRequest extends tandem.v1.SubmitJobRequest.$Properties {
        }

        class SubmitJobRequest {
            constructor(properties?: tandem.v1.SubmitJobRequest.$Properties);
            $unknowns?: Uint8Array[];
            specYaml: string;
            specFile: string;
            static create(properties: tandem.v1.SubmitJobRequest.$Shape): tandem.v1.SubmitJobRequest & tandem.v1.SubmitJobRequest.$Shape;
            static create(properties?: tandem.v1.SubmitJobRequest.$Properties): tandem.v1.SubmitJobRequest;
            static encode(message: tandem.v1.SubmitJobRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.SubmitJobRequest & tandem.v1.SubmitJobRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace SubmitJobRequest {
            interface $Properties {
                specYaml?: (string|null);
                specFile?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.SubmitJobRequest.$Properties;
        }

        interface IJobRef extends tandem.v1.JobRef.$Properties {
        }

        class JobRef {
            constructor(properties?: tandem.v1.JobRef.$Properties);
            $unknowns?: Uint8Array[];
            jobId: string;
            static create(properties: tandem.v1.JobRef.$Shape): tandem.v1.JobRef & tandem.v1.JobRef.$Shape;
            static create(properties?: tandem.v1.JobRef.$Properties): tandem.v1.JobRef;
            static encode(message: tandem.v1.JobRef.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobRef & tandem.v1.JobRef.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobRef {
            interface $Properties {
                jobId?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobRef.$Properties;
        }

        interface IListJobsRequest extends tandem.v1.ListJobsRequest.$Properties {
        }

        class ListJobsRequest {
            constructor(properties?: tandem.v1.ListJobsRequest.$Properties);
            $unknowns?: Uint8Array[];
            limit: number;
            static create(properties: tandem.v1.ListJobsRequest.$Shape): tandem.v1.ListJobsRequest & tandem.v1.ListJobsRequest.$Shape;
            static create(properties?: tandem.v1.ListJobsRequest.$Properties): tandem.v1.ListJobsRequest;
            static encode(message: tandem.v1.ListJobsRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ListJobsRequest & tandem.v1.ListJobsRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ListJobsRequest {
            interface $Properties {
                limit?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ListJobsRequest.$Properties;
        }

        interface IListJobsResponse extends tandem.v1.ListJobsResponse.$Properties {
        }

        class ListJobsResponse {
            constructor(properties?: tandem.v1.ListJobsResponse.$Properties);
            $unknowns?: Uint8Array[];
            jobs: tandem.v1.JobStatus.$Properties[];
            static create(properties: tandem.v1.ListJobsResponse.$Shape): tandem.v1.ListJobsResponse & tandem.v1.ListJobsResponse.$Shape;
            static create(properties?: tandem.v1.ListJobsResponse.$Properties): tandem.v1.ListJobsResponse;
            static encode(message: tandem.v1.ListJobsResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ListJobsResponse & tandem.v1.ListJobsResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ListJobsResponse {
            interface $Properties {
                jobs?: (tandem.v1.JobStatus.$Properties[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ListJobsResponse.$Properties;
        }

        interface IJobStatus extends tandem.v1.JobStatus.$Properties {
        }

        class JobStatus {
            constructor(properties?: tandem.v1.JobStatus.$Properties);
            $unknowns?: Uint8Array[];
            jobId: string;
            name: string;
            kind: string;
            stage: string;
            phase: string;
            parties: string[];
            epoch: number;
            maxEpochs: number;
            loss: number;
            message: string;
            summaryJson: string;
            createdAtMs: number;
            updatedAtMs: number;
            specYaml: string;
            unit: string;
            static create(properties: tandem.v1.JobStatus.$Shape): tandem.v1.JobStatus & tandem.v1.JobStatus.$Shape;
            static create(properties?: tandem.v1.JobStatus.$Properties): tandem.v1.JobStatus;
            static encode(message: tandem.v1.JobStatus.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobStatus & tandem.v1.JobStatus.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobStatus {
            interface $Properties {
                jobId?: (string|null);
                name?: (string|null);
                kind?: (string|null);
                stage?: (string|null);
                phase?: (string|null);
                parties?: (string[]|null);
                epoch?: (number|null);
                maxEpochs?: (number|null);
                loss?: (number|null);
                message?: (string|null);
                summaryJson?: (string|null);
                createdAtMs?: (number|null);
                updatedAtMs?: (number|null);
                specYaml?: (string|null);
                unit?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobStatus.$Properties;
        }

        interface IDescribeFederationRequest extends tandem.v1.DescribeFederationRequest.$Properties {
        }

        class DescribeFederationRequest {
            constructor(properties?: tandem.v1.DescribeFederationRequest.$Properties);
            $unknowns?: Uint8Array[];
            jobLimit: number;
            static create(properties: tandem.v1.DescribeFederationRequest.$Shape): tandem.v1.DescribeFederationRequest & tandem.v1.DescribeFederationRequest.$Shape;
            static create(properties?: tandem.v1.DescribeFederationRequest.$Properties): tandem.v1.DescribeFederationRequest;
            static encode(message: tandem.v1.DescribeFederationRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.DescribeFederationRequest & tandem.v1.DescribeFederationRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace DescribeFederationRequest {
            interface $Properties {
                jobLimit?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.DescribeFederationRequest.$Properties;
        }

        interface IPartyPresence extends tandem.v1.PartyPresence.$Properties {
        }

        class PartyPresence {
            constructor(properties?: tandem.v1.PartyPresence.$Properties);
            $unknowns?: Uint8Array[];
            name: string;
            registered: boolean;
            connected: boolean;
            static create(properties: tandem.v1.PartyPresence.$Shape): tandem.v1.PartyPresence & tandem.v1.PartyPresence.$Shape;
            static create(properties?: tandem.v1.PartyPresence.$Properties): tandem.v1.PartyPresence;
            static encode(message: tandem.v1.PartyPresence.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PartyPresence & tandem.v1.PartyPresence.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PartyPresence {
            interface $Properties {
                name?: (string|null);
                registered?: (boolean|null);
                connected?: (boolean|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PartyPresence.$Properties;
        }

        interface IJobFailure extends tandem.v1.JobFailure.$Properties {
        }

        class JobFailure {
            constructor(properties?: tandem.v1.JobFailure.$Properties);
            $unknowns?: Uint8Array[];
            jobId: string;
            party: string;
            phase: string;
            errorCode: string;
            message: string;
            static create(properties: tandem.v1.JobFailure.$Shape): tandem.v1.JobFailure & tandem.v1.JobFailure.$Shape;
            static create(properties?: tandem.v1.JobFailure.$Properties): tandem.v1.JobFailure;
            static encode(message: tandem.v1.JobFailure.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobFailure & tandem.v1.JobFailure.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobFailure {
            interface $Properties {
                jobId?: (string|null);
                party?: (string|null);
                phase?: (string|null);
                errorCode?: (string|null);
                message?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobFailure.$Properties;
        }

        interface IFederationView extends tandem.v1.FederationView.$Properties {
        }

        class FederationView {
            constructor(properties?: tandem.v1.FederationView.$Properties);
            $unknowns?: Uint8Array[];
            coordinator: string;
            caller: string;
            callerIsAdmin: boolean;
            full: boolean;
            parties: tandem.v1.PartyPresence.$Properties[];
            jobs: tandem.v1.JobStatus.$Properties[];
            failures: tandem.v1.JobFailure.$Properties[];
            static create(properties: tandem.v1.FederationView.$Shape): tandem.v1.FederationView & tandem.v1.FederationView.$Shape;
            static create(properties?: tandem.v1.FederationView.$Properties): tandem.v1.FederationView;
            static encode(message: tandem.v1.FederationView.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.FederationView & tandem.v1.FederationView.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace FederationView {
            interface $Properties {
                coordinator?: (string|null);
                caller?: (string|null);
                callerIsAdmin?: (boolean|null);
                full?: (boolean|null);
                parties?: (tandem.v1.PartyPresence.$Properties[]|null);
                jobs?: (tandem.v1.JobStatus.$Properties[]|null);
                failures?: (tandem.v1.JobFailure.$Properties[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.FederationView.$Properties;
        }

        interface IJobAssignment extends tandem.v1.JobAssignment.$Properties {
        }

        class JobAssignment {
            constructor(properties?: tandem.v1.JobAssignment.$Properties);
            $unknowns?: Uint8Array[];
            jobId: string;
            specJson: string;
            ckksPublicKey: Uint8Array;
            ckksParamsJson: string;
            static create(properties: tandem.v1.JobAssignment.$Shape): tandem.v1.JobAssignment & tandem.v1.JobAssignment.$Shape;
            static create(properties?: tandem.v1.JobAssignment.$Properties): tandem.v1.JobAssignment;
            static encode(message: tandem.v1.JobAssignment.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobAssignment & tandem.v1.JobAssignment.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobAssignment {
            interface $Properties {
                jobId?: (string|null);
                specJson?: (string|null);
                ckksPublicKey?: (Uint8Array|null);
                ckksParamsJson?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobAssignment.$Properties;
        }

        interface IPartyKey extends tandem.v1.PartyKey.$Properties {
        }

        class PartyKey {
            constructor(properties?: tandem.v1.PartyKey.$Properties);
            $unknowns?: Uint8Array[];
            party: string;
            jobId: string;
            x25519PublicKey: Uint8Array;
            certificateDer: Uint8Array;
            signature: Uint8Array;
            static create(properties: tandem.v1.PartyKey.$Shape): tandem.v1.PartyKey & tandem.v1.PartyKey.$Shape;
            static create(properties?: tandem.v1.PartyKey.$Properties): tandem.v1.PartyKey;
            static encode(message: tandem.v1.PartyKey.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PartyKey & tandem.v1.PartyKey.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PartyKey {
            interface $Properties {
                party?: (string|null);
                jobId?: (string|null);
                x25519PublicKey?: (Uint8Array|null);
                certificateDer?: (Uint8Array|null);
                signature?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PartyKey.$Properties;
        }

        interface IKeyDirectory extends tandem.v1.KeyDirectory.$Properties {
        }

        class KeyDirectory {
            constructor(properties?: tandem.v1.KeyDirectory.$Properties);
            $unknowns?: Uint8Array[];
            keys: tandem.v1.PartyKey.$Properties[];
            static create(properties: tandem.v1.KeyDirectory.$Shape): tandem.v1.KeyDirectory & tandem.v1.KeyDirectory.$Shape;
            static create(properties?: tandem.v1.KeyDirectory.$Properties): tandem.v1.KeyDirectory;
            static encode(message: tandem.v1.KeyDirectory.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.KeyDirectory & tandem.v1.KeyDirectory.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace KeyDirectory {
            interface $Properties {
                keys?: (tandem.v1.PartyKey.$Properties[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.KeyDirectory.$Properties;
        }

        interface IDecryptRequest extends tandem.v1.DecryptRequest.$Properties {
        }

        class DecryptRequest {
            constructor(properties?: tandem.v1.DecryptRequest.$Properties);
            $unknowns?: Uint8Array[];
            ciphertexts: Uint8Array[];
            static create(properties: tandem.v1.DecryptRequest.$Shape): tandem.v1.DecryptRequest & tandem.v1.DecryptRequest.$Shape;
            static create(properties?: tandem.v1.DecryptRequest.$Properties): tandem.v1.DecryptRequest;
            static encode(message: tandem.v1.DecryptRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.DecryptRequest & tandem.v1.DecryptRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace DecryptRequest {
            interface $Properties {
                ciphertexts?: (Uint8Array[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.DecryptRequest.$Properties;
        }

        interface IDecryptResponse extends tandem.v1.DecryptResponse.$Properties {
        }

        class DecryptResponse {
            constructor(properties?: tandem.v1.DecryptResponse.$Properties);
            $unknowns?: Uint8Array[];
            values: Uint8Array;
            static create(properties: tandem.v1.DecryptResponse.$Shape): tandem.v1.DecryptResponse & tandem.v1.DecryptResponse.$Shape;
            static create(properties?: tandem.v1.DecryptResponse.$Properties): tandem.v1.DecryptResponse;
            static encode(message: tandem.v1.DecryptResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.DecryptResponse & tandem.v1.DecryptResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace DecryptResponse {
            interface $Properties {
                values?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.DecryptResponse.$Properties;
        }

        interface IJobEvent extends tandem.v1.JobEvent.$Properties {
        }

        class JobEvent {
            constructor(properties?: tandem.v1.JobEvent.$Properties);
            $unknowns?: Uint8Array[];
            phase: string;
            epoch: number;
            maxEpochs: number;
            loss: number;
            message: string;
            summaryJson: string;
            done: boolean;
            failed: boolean;
            errorCode: string;
            unit: string;
            static create(properties: tandem.v1.JobEvent.$Shape): tandem.v1.JobEvent & tandem.v1.JobEvent.$Shape;
            static create(properties?: tandem.v1.JobEvent.$Properties): tandem.v1.JobEvent;
            static encode(message: tandem.v1.JobEvent.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobEvent & tandem.v1.JobEvent.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobEvent {
            interface $Properties {
                phase?: (string|null);
                epoch?: (number|null);
                maxEpochs?: (number|null);
                loss?: (number|null);
                message?: (string|null);
                summaryJson?: (string|null);
                done?: (boolean|null);
                failed?: (boolean|null);
                errorCode?: (string|null);
                unit?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobEvent.$Properties;
        }

        interface IJobControl extends tandem.v1.JobControl.$Properties {
        }

        class JobControl {
            constructor(properties?: tandem.v1.JobControl.$Properties);
            $unknowns?: Uint8Array[];
            action: string;
            reason: string;
            static create(properties: tandem.v1.JobControl.$Shape): tandem.v1.JobControl & tandem.v1.JobControl.$Shape;
            static create(properties?: tandem.v1.JobControl.$Properties): tandem.v1.JobControl;
            static encode(message: tandem.v1.JobControl.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.JobControl & tandem.v1.JobControl.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace JobControl {
            interface $Properties {
                action?: (string|null);
                reason?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.JobControl.$Properties;
        }

        interface IRefusal extends tandem.v1.Refusal.$Properties {
        }

        class Refusal {
            constructor(properties?: tandem.v1.Refusal.$Properties);
            $unknowns?: Uint8Array[];
            code: string;
            message: string;
            refused: string;
            static create(properties: tandem.v1.Refusal.$Shape): tandem.v1.Refusal & tandem.v1.Refusal.$Shape;
            static create(properties?: tandem.v1.Refusal.$Properties): tandem.v1.Refusal;
            static encode(message: tandem.v1.Refusal.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Refusal & tandem.v1.Refusal.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Refusal {
            interface $Properties {
                code?: (string|null);
                message?: (string|null);
                refused?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Refusal.$Properties;
        }

        interface IDpPlan extends tandem.v1.DpPlan.$Properties {
        }

        class DpPlan {
            constructor(properties?: tandem.v1.DpPlan.$Properties);
            $unknowns?: Uint8Array[];
            trainRows: number;
            static create(properties: tandem.v1.DpPlan.$Shape): tandem.v1.DpPlan & tandem.v1.DpPlan.$Shape;
            static create(properties?: tandem.v1.DpPlan.$Properties): tandem.v1.DpPlan;
            static encode(message: tandem.v1.DpPlan.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.DpPlan & tandem.v1.DpPlan.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace DpPlan {
            interface $Properties {
                trainRows?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.DpPlan.$Properties;
        }

        interface IPsiElements extends tandem.v1.PsiElements.$Properties {
        }

        class PsiElements {
            constructor(properties?: tandem.v1.PsiElements.$Properties);
            $unknowns?: Uint8Array[];
            elements: Uint8Array;
            count: number;
            static create(properties: tandem.v1.PsiElements.$Shape): tandem.v1.PsiElements & tandem.v1.PsiElements.$Shape;
            static create(properties?: tandem.v1.PsiElements.$Properties): tandem.v1.PsiElements;
            static encode(message: tandem.v1.PsiElements.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiElements & tandem.v1.PsiElements.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiElements {
            interface $Properties {
                elements?: (Uint8Array|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiElements.$Properties;
        }

        interface IRowSelection extends tandem.v1.RowSelection.$Properties {
        }

        class RowSelection {
            constructor(properties?: tandem.v1.RowSelection.$Properties);
            $unknowns?: Uint8Array[];
            indices: Uint8Array;
            count: number;
            purpose: string;
            static create(properties: tandem.v1.RowSelection.$Shape): tandem.v1.RowSelection & tandem.v1.RowSelection.$Shape;
            static create(properties?: tandem.v1.RowSelection.$Properties): tandem.v1.RowSelection;
            static encode(message: tandem.v1.RowSelection.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.RowSelection & tandem.v1.RowSelection.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace RowSelection {
            interface $Properties {
                indices?: (Uint8Array|null);
                count?: (number|null);
                purpose?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.RowSelection.$Properties;
        }

        interface ICiphertextBatch extends tandem.v1.CiphertextBatch.$Properties {
        }

        class CiphertextBatch {
            constructor(properties?: tandem.v1.CiphertextBatch.$Properties);
            $unknowns?: Uint8Array[];
            ciphertexts: Uint8Array[];
            rows: number;
            perChunk: number;
            static create(properties: tandem.v1.CiphertextBatch.$Shape): tandem.v1.CiphertextBatch & tandem.v1.CiphertextBatch.$Shape;
            static create(properties?: tandem.v1.CiphertextBatch.$Properties): tandem.v1.CiphertextBatch;
            static encode(message: tandem.v1.CiphertextBatch.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.CiphertextBatch & tandem.v1.CiphertextBatch.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace CiphertextBatch {
            interface $Properties {
                ciphertexts?: (Uint8Array[]|null);
                rows?: (number|null);
                perChunk?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.CiphertextBatch.$Properties;
        }

        interface IScores extends tandem.v1.Scores.$Properties {
        }

        class Scores {
            constructor(properties?: tandem.v1.Scores.$Properties);
            $unknowns?: Uint8Array[];
            values: Uint8Array;
            rows: number;
            outputs: number;
            static create(properties: tandem.v1.Scores.$Shape): tandem.v1.Scores & tandem.v1.Scores.$Shape;
            static create(properties?: tandem.v1.Scores.$Properties): tandem.v1.Scores;
            static encode(message: tandem.v1.Scores.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Scores & tandem.v1.Scores.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Scores {
            interface $Properties {
                values?: (Uint8Array|null);
                rows?: (number|null);
                outputs?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Scores.$Properties;
        }

        interface IControl extends tandem.v1.Control.$Properties {
        }

        class Control {
            constructor(properties?: tandem.v1.Control.$Properties);
            $unknowns?: Uint8Array[];
            action: string;
            epoch: number;
            reason: string;
            static create(properties: tandem.v1.Control.$Shape): tandem.v1.Control & tandem.v1.Control.$Shape;
            static create(properties?: tandem.v1.Control.$Properties): tandem.v1.Control;
            static encode(message: tandem.v1.Control.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.Control & tandem.v1.Control.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace Control {
            interface $Properties {
                action?: (string|null);
                epoch?: (number|null);
                reason?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.Control.$Properties;
        }

        interface IScoringKey extends tandem.v1.ScoringKey.$Properties {
        }

        class ScoringKey {
            constructor(properties?: tandem.v1.ScoringKey.$Properties);
            $unknowns?: Uint8Array[];
            key: Uint8Array;
            static create(properties: tandem.v1.ScoringKey.$Shape): tandem.v1.ScoringKey & tandem.v1.ScoringKey.$Shape;
            static create(properties?: tandem.v1.ScoringKey.$Properties): tandem.v1.ScoringKey;
            static encode(message: tandem.v1.ScoringKey.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ScoringKey & tandem.v1.ScoringKey.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ScoringKey {
            interface $Properties {
                key?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ScoringKey.$Properties;
        }

        interface IFeatureValue extends tandem.v1.FeatureValue.$Properties {
        }

        class FeatureValue {
            constructor(properties?: tandem.v1.FeatureValue.$Properties);
            $unknowns?: Uint8Array[];
            stringValue?: (string|null);
            numberValue?: (number|null);
            boolValue?: (boolean|null);
            value?: ("stringValue"|"numberValue"|"boolValue");
            static create(properties: tandem.v1.FeatureValue.$Shape): tandem.v1.FeatureValue & tandem.v1.FeatureValue.$Shape;
            static create(properties?: tandem.v1.FeatureValue.$Properties): tandem.v1.FeatureValue;
            static encode(message: tandem.v1.FeatureValue.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.FeatureValue & tandem.v1.FeatureValue.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace FeatureValue {
            interface $Properties {
                stringValue?: (string|null);
                numberValue?: (number|null);
                boolValue?: (boolean|null);
                value?: ("stringValue"|"numberValue"|"boolValue");
                $unknowns?: Uint8Array[];
            }
            type $Shape = {
              stringValue?: string|null;
              numberValue?: number|null;
              boolValue?: boolean|null;
              $unknowns?: Uint8Array[];
            } & (
              ({ value?: undefined; stringValue?: null; numberValue?: null; boolValue?: null }|{ value?: "stringValue"; stringValue: string; numberValue?: null; boolValue?: null }|{ value?: "numberValue"; stringValue?: null; numberValue: number; boolValue?: null }|{ value?: "boolValue"; stringValue?: null; numberValue?: null; boolValue: boolean })
            );
        }

        interface IScoreRequest extends tandem.v1.ScoreRequest.$Properties {
        }

        class ScoreRequest {
            constructor(properties?: tandem.v1.ScoreRequest.$Properties);
            $unknowns?: Uint8Array[];
            id: string;
            features: { [k: string]: tandem.v1.FeatureValue.$Properties };
            static create(properties: tandem.v1.ScoreRequest.$Shape): tandem.v1.ScoreRequest & tandem.v1.ScoreRequest.$Shape;
            static create(properties?: tandem.v1.ScoreRequest.$Properties): tandem.v1.ScoreRequest;
            static encode(message: tandem.v1.ScoreRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ScoreRequest & tandem.v1.ScoreRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ScoreRequest {
            interface $Properties {
                id?: (string|null);
                features?: ({ [k: string]: tandem.v1.FeatureValue.$Properties }|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = {
              id?: string|null;
              features?: { [k: string]: tandem.v1.FeatureValue.$Shape }|null;
              $unknowns?: Uint8Array[];
            };
        }

        interface IScoreResponse extends tandem.v1.ScoreResponse.$Properties {
        }

        class ScoreResponse {
            constructor(properties?: tandem.v1.ScoreResponse.$Properties);
            $unknowns?: Uint8Array[];
            id: string;
            probability: number;
            logit: number;
            segment: string;
            complete: boolean;
            hosts: { [k: string]: string };
            partialLogit?: (number|null);
            probabilities: { [k: string]: number };
            logits: { [k: string]: number };
            partialLogits: number[];
            splitBits: string;
            prediction?: (number|null);
            static create(properties: tandem.v1.ScoreResponse.$Shape): tandem.v1.ScoreResponse & tandem.v1.ScoreResponse.$Shape;
            static create(properties?: tandem.v1.ScoreResponse.$Properties): tandem.v1.ScoreResponse;
            static encode(message: tandem.v1.ScoreResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ScoreResponse & tandem.v1.ScoreResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ScoreResponse {
            interface $Properties {
                id?: (string|null);
                probability?: (number|null);
                logit?: (number|null);
                segment?: (string|null);
                complete?: (boolean|null);
                hosts?: ({ [k: string]: string }|null);
                partialLogit?: (number|null);
                probabilities?: ({ [k: string]: number }|null);
                logits?: ({ [k: string]: number }|null);
                partialLogits?: (number[]|null);
                splitBits?: (string|null);
                prediction?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ScoreResponse.$Properties;
        }

        interface IScoreBatchRequest extends tandem.v1.ScoreBatchRequest.$Properties {
        }

        class ScoreBatchRequest {
            constructor(properties?: tandem.v1.ScoreBatchRequest.$Properties);
            $unknowns?: Uint8Array[];
            rows: tandem.v1.ScoreRequest.$Properties[];
            static create(properties: tandem.v1.ScoreBatchRequest.$Shape): tandem.v1.ScoreBatchRequest & tandem.v1.ScoreBatchRequest.$Shape;
            static create(properties?: tandem.v1.ScoreBatchRequest.$Properties): tandem.v1.ScoreBatchRequest;
            static encode(message: tandem.v1.ScoreBatchRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ScoreBatchRequest & tandem.v1.ScoreBatchRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ScoreBatchRequest {
            interface $Properties {
                rows?: (tandem.v1.ScoreRequest.$Properties[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = {
              rows?: tandem.v1.ScoreRequest.$Shape[]|null;
              $unknowns?: Uint8Array[];
            };
        }

        interface IScoreBatchResponse extends tandem.v1.ScoreBatchResponse.$Properties {
        }

        class ScoreBatchResponse {
            constructor(properties?: tandem.v1.ScoreBatchResponse.$Properties);
            $unknowns?: Uint8Array[];
            results: tandem.v1.ScoreResponse.$Properties[];
            static create(properties: tandem.v1.ScoreBatchResponse.$Shape): tandem.v1.ScoreBatchResponse & tandem.v1.ScoreBatchResponse.$Shape;
            static create(properties?: tandem.v1.ScoreBatchResponse.$Properties): tandem.v1.ScoreBatchResponse;
            static encode(message: tandem.v1.ScoreBatchResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ScoreBatchResponse & tandem.v1.ScoreBatchResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ScoreBatchResponse {
            interface $Properties {
                results?: (tandem.v1.ScoreResponse.$Properties[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ScoreBatchResponse.$Properties;
        }

        interface IHealthRequest extends tandem.v1.HealthRequest.$Properties {
        }

        class HealthRequest {
            constructor(properties?: tandem.v1.HealthRequest.$Properties);
            $unknowns?: Uint8Array[];
            static create(properties: tandem.v1.HealthRequest.$Shape): tandem.v1.HealthRequest & tandem.v1.HealthRequest.$Shape;
            static create(properties?: tandem.v1.HealthRequest.$Properties): tandem.v1.HealthRequest;
            static encode(message: tandem.v1.HealthRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.HealthRequest & tandem.v1.HealthRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace HealthRequest {
            interface $Properties {
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.HealthRequest.$Properties;
        }

        interface IHealthResponse extends tandem.v1.HealthResponse.$Properties {
        }

        class HealthResponse {
            constructor(properties?: tandem.v1.HealthResponse.$Properties);
            $unknowns?: Uint8Array[];
            status: string;
            role: string;
            jobId: string;
            static create(properties: tandem.v1.HealthResponse.$Shape): tandem.v1.HealthResponse & tandem.v1.HealthResponse.$Shape;
            static create(properties?: tandem.v1.HealthResponse.$Properties): tandem.v1.HealthResponse;
            static encode(message: tandem.v1.HealthResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.HealthResponse & tandem.v1.HealthResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace HealthResponse {
            interface $Properties {
                status?: (string|null);
                role?: (string|null);
                jobId?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.HealthResponse.$Properties;
        }

        interface IModelInfoRequest extends tandem.v1.ModelInfoRequest.$Properties {
        }

        class ModelInfoRequest {
            constructor(properties?: tandem.v1.ModelInfoRequest.$Properties);
            $unknowns?: Uint8Array[];
            static create(properties: tandem.v1.ModelInfoRequest.$Shape): tandem.v1.ModelInfoRequest & tandem.v1.ModelInfoRequest.$Shape;
            static create(properties?: tandem.v1.ModelInfoRequest.$Properties): tandem.v1.ModelInfoRequest;
            static encode(message: tandem.v1.ModelInfoRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ModelInfoRequest & tandem.v1.ModelInfoRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ModelInfoRequest {
            interface $Properties {
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ModelInfoRequest.$Properties;
        }

        interface IModelParty extends tandem.v1.ModelParty.$Properties {
        }

        class ModelParty {
            constructor(properties?: tandem.v1.ModelParty.$Properties);
            $unknowns?: Uint8Array[];
            name: string;
            role: string;
            static create(properties: tandem.v1.ModelParty.$Shape): tandem.v1.ModelParty & tandem.v1.ModelParty.$Shape;
            static create(properties?: tandem.v1.ModelParty.$Properties): tandem.v1.ModelParty;
            static encode(message: tandem.v1.ModelParty.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ModelParty & tandem.v1.ModelParty.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ModelParty {
            interface $Properties {
                name?: (string|null);
                role?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ModelParty.$Properties;
        }

        interface IInputColumn extends tandem.v1.InputColumn.$Properties {
        }

        class InputColumn {
            constructor(properties?: tandem.v1.InputColumn.$Properties);
            $unknowns?: Uint8Array[];
            name: string;
            kind: string;
            static create(properties: tandem.v1.InputColumn.$Shape): tandem.v1.InputColumn & tandem.v1.InputColumn.$Shape;
            static create(properties?: tandem.v1.InputColumn.$Properties): tandem.v1.InputColumn;
            static encode(message: tandem.v1.InputColumn.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.InputColumn & tandem.v1.InputColumn.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace InputColumn {
            interface $Properties {
                name?: (string|null);
                kind?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.InputColumn.$Properties;
        }

        interface IModelInfoResponse extends tandem.v1.ModelInfoResponse.$Properties {
        }

        class ModelInfoResponse {
            constructor(properties?: tandem.v1.ModelInfoResponse.$Properties);
            $unknowns?: Uint8Array[];
            jobId: string;
            jobName: string;
            party: string;
            role: string;
            parties: tandem.v1.ModelParty.$Properties[];
            featureNames: string[];
            inputColumns: tandem.v1.InputColumn.$Properties[];
            output: string;
            metricsJson: string;
            protocolVersion: number;
            createdAt: string;
            trainedAt: string;
            outputs: number;
            classes: string[];
            static create(properties: tandem.v1.ModelInfoResponse.$Shape): tandem.v1.ModelInfoResponse & tandem.v1.ModelInfoResponse.$Shape;
            static create(properties?: tandem.v1.ModelInfoResponse.$Properties): tandem.v1.ModelInfoResponse;
            static encode(message: tandem.v1.ModelInfoResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.ModelInfoResponse & tandem.v1.ModelInfoResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace ModelInfoResponse {
            interface $Properties {
                jobId?: (string|null);
                jobName?: (string|null);
                party?: (string|null);
                role?: (string|null);
                parties?: (tandem.v1.ModelParty.$Properties[]|null);
                featureNames?: (string[]|null);
                inputColumns?: (tandem.v1.InputColumn.$Properties[]|null);
                output?: (string|null);
                metricsJson?: (string|null);
                protocolVersion?: (number|null);
                createdAt?: (string|null);
                trainedAt?: (string|null);
                outputs?: (number|null);
                classes?: (string[]|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.ModelInfoResponse.$Properties;
        }

        interface ISignExportRequest extends tandem.v1.SignExportRequest.$Properties {
        }

        class SignExportRequest {
            constructor(properties?: tandem.v1.SignExportRequest.$Properties);
            $unknowns?: Uint8Array[];
            manifestJson: string;
            static create(properties: tandem.v1.SignExportRequest.$Shape): tandem.v1.SignExportRequest & tandem.v1.SignExportRequest.$Shape;
            static create(properties?: tandem.v1.SignExportRequest.$Properties): tandem.v1.SignExportRequest;
            static encode(message: tandem.v1.SignExportRequest.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.SignExportRequest & tandem.v1.SignExportRequest.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace SignExportRequest {
            interface $Properties {
                manifestJson?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.SignExportRequest.$Properties;
        }

        interface ISignExportResponse extends tandem.v1.SignExportResponse.$Properties {
        }

        class SignExportResponse {
            constructor(properties?: tandem.v1.SignExportResponse.$Properties);
            $unknowns?: Uint8Array[];
            coordinator: string;
            certificate: string;
            signature: Uint8Array;
            static create(properties: tandem.v1.SignExportResponse.$Shape): tandem.v1.SignExportResponse & tandem.v1.SignExportResponse.$Shape;
            static create(properties?: tandem.v1.SignExportResponse.$Properties): tandem.v1.SignExportResponse;
            static encode(message: tandem.v1.SignExportResponse.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.SignExportResponse & tandem.v1.SignExportResponse.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace SignExportResponse {
            interface $Properties {
                coordinator?: (string|null);
                certificate?: (string|null);
                signature?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.SignExportResponse.$Properties;
        }

        interface IPsiPrfSet extends tandem.v1.PsiPrfSet.$Properties {
        }

        class PsiPrfSet {
            constructor(properties?: tandem.v1.PsiPrfSet.$Properties);
            $unknowns?: Uint8Array[];
            peer: string;
            values: Uint8Array;
            count: number;
            static create(properties: tandem.v1.PsiPrfSet.$Shape): tandem.v1.PsiPrfSet & tandem.v1.PsiPrfSet.$Shape;
            static create(properties?: tandem.v1.PsiPrfSet.$Properties): tandem.v1.PsiPrfSet;
            static encode(message: tandem.v1.PsiPrfSet.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiPrfSet & tandem.v1.PsiPrfSet.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiPrfSet {
            interface $Properties {
                peer?: (string|null);
                values?: (Uint8Array|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiPrfSet.$Properties;
        }

        interface IPsiPrfMatches extends tandem.v1.PsiPrfMatches.$Properties {
        }

        class PsiPrfMatches {
            constructor(properties?: tandem.v1.PsiPrfMatches.$Properties);
            $unknowns?: Uint8Array[];
            peer: string;
            guestPositions: Uint8Array;
            hostPositions: Uint8Array;
            count: number;
            guestCount: number;
            hostCount: number;
            static create(properties: tandem.v1.PsiPrfMatches.$Shape): tandem.v1.PsiPrfMatches & tandem.v1.PsiPrfMatches.$Shape;
            static create(properties?: tandem.v1.PsiPrfMatches.$Properties): tandem.v1.PsiPrfMatches;
            static encode(message: tandem.v1.PsiPrfMatches.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiPrfMatches & tandem.v1.PsiPrfMatches.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiPrfMatches {
            interface $Properties {
                peer?: (string|null);
                guestPositions?: (Uint8Array|null);
                hostPositions?: (Uint8Array|null);
                count?: (number|null);
                guestCount?: (number|null);
                hostCount?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiPrfMatches.$Properties;
        }

        interface IPsiOprfHello extends tandem.v1.PsiOprfHello.$Properties {
        }

        class PsiOprfHello {
            constructor(properties?: tandem.v1.PsiOprfHello.$Properties);
            $unknowns?: Uint8Array[];
            points: Uint8Array;
            codeSeed: Uint8Array;
            count: number;
            static create(properties: tandem.v1.PsiOprfHello.$Shape): tandem.v1.PsiOprfHello & tandem.v1.PsiOprfHello.$Shape;
            static create(properties?: tandem.v1.PsiOprfHello.$Properties): tandem.v1.PsiOprfHello;
            static encode(message: tandem.v1.PsiOprfHello.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiOprfHello & tandem.v1.PsiOprfHello.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiOprfHello {
            interface $Properties {
                points?: (Uint8Array|null);
                codeSeed?: (Uint8Array|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiOprfHello.$Properties;
        }

        interface IPsiOprfSetup extends tandem.v1.PsiOprfSetup.$Properties {
        }

        class PsiOprfSetup {
            constructor(properties?: tandem.v1.PsiOprfSetup.$Properties);
            $unknowns?: Uint8Array[];
            reply: Uint8Array;
            cuckooSeed: Uint8Array;
            count: number;
            buckets: number;
            static create(properties: tandem.v1.PsiOprfSetup.$Shape): tandem.v1.PsiOprfSetup & tandem.v1.PsiOprfSetup.$Shape;
            static create(properties?: tandem.v1.PsiOprfSetup.$Properties): tandem.v1.PsiOprfSetup;
            static encode(message: tandem.v1.PsiOprfSetup.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiOprfSetup & tandem.v1.PsiOprfSetup.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiOprfSetup {
            interface $Properties {
                reply?: (Uint8Array|null);
                cuckooSeed?: (Uint8Array|null);
                count?: (number|null);
                buckets?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiOprfSetup.$Properties;
        }

        interface IPsiOprfCorrection extends tandem.v1.PsiOprfCorrection.$Properties {
        }

        class PsiOprfCorrection {
            constructor(properties?: tandem.v1.PsiOprfCorrection.$Properties);
            $unknowns?: Uint8Array[];
            bucket: number;
            chunk: number;
            rows: Uint8Array;
            static create(properties: tandem.v1.PsiOprfCorrection.$Shape): tandem.v1.PsiOprfCorrection & tandem.v1.PsiOprfCorrection.$Shape;
            static create(properties?: tandem.v1.PsiOprfCorrection.$Properties): tandem.v1.PsiOprfCorrection;
            static encode(message: tandem.v1.PsiOprfCorrection.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiOprfCorrection & tandem.v1.PsiOprfCorrection.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiOprfCorrection {
            interface $Properties {
                bucket?: (number|null);
                chunk?: (number|null);
                rows?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiOprfCorrection.$Properties;
        }

        interface IPsiOprfValues extends tandem.v1.PsiOprfValues.$Properties {
        }

        class PsiOprfValues {
            constructor(properties?: tandem.v1.PsiOprfValues.$Properties);
            $unknowns?: Uint8Array[];
            bucket: number;
            chunk: number;
            values: Uint8Array;
            static create(properties: tandem.v1.PsiOprfValues.$Shape): tandem.v1.PsiOprfValues & tandem.v1.PsiOprfValues.$Shape;
            static create(properties?: tandem.v1.PsiOprfValues.$Properties): tandem.v1.PsiOprfValues;
            static encode(message: tandem.v1.PsiOprfValues.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.PsiOprfValues & tandem.v1.PsiOprfValues.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace PsiOprfValues {
            interface $Properties {
                bucket?: (number|null);
                chunk?: (number|null);
                values?: (Uint8Array|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.PsiOprfValues.$Properties;
        }

        interface ITreeSeed extends tandem.v1.TreeSeed.$Properties {
        }

        class TreeSeed {
            constructor(properties?: tandem.v1.TreeSeed.$Properties);
            $unknowns?: Uint8Array[];
            seed: Uint8Array;
            rows: number;
            bins: number;
            static create(properties: tandem.v1.TreeSeed.$Shape): tandem.v1.TreeSeed & tandem.v1.TreeSeed.$Shape;
            static create(properties?: tandem.v1.TreeSeed.$Properties): tandem.v1.TreeSeed;
            static encode(message: tandem.v1.TreeSeed.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeSeed & tandem.v1.TreeSeed.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeSeed {
            interface $Properties {
                seed?: (Uint8Array|null);
                rows?: (number|null);
                bins?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeSeed.$Properties;
        }

        interface ITreeWords extends tandem.v1.TreeWords.$Properties {
        }

        class TreeWords {
            constructor(properties?: tandem.v1.TreeWords.$Properties);
            $unknowns?: Uint8Array[];
            words: Uint8Array;
            count: number;
            first: number;
            width: number;
            static create(properties: tandem.v1.TreeWords.$Shape): tandem.v1.TreeWords & tandem.v1.TreeWords.$Shape;
            static create(properties?: tandem.v1.TreeWords.$Properties): tandem.v1.TreeWords;
            static encode(message: tandem.v1.TreeWords.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeWords & tandem.v1.TreeWords.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeWords {
            interface $Properties {
                words?: (Uint8Array|null);
                count?: (number|null);
                first?: (number|null);
                width?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeWords.$Properties;
        }

        interface ITreeDeal extends tandem.v1.TreeDeal.$Properties {
        }

        class TreeDeal {
            constructor(properties?: tandem.v1.TreeDeal.$Properties);
            $unknowns?: Uint8Array[];
            host: string;
            first: number;
            count: number;
            static create(properties: tandem.v1.TreeDeal.$Shape): tandem.v1.TreeDeal & tandem.v1.TreeDeal.$Shape;
            static create(properties?: tandem.v1.TreeDeal.$Properties): tandem.v1.TreeDeal;
            static encode(message: tandem.v1.TreeDeal.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeDeal & tandem.v1.TreeDeal.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeDeal {
            interface $Properties {
                host?: (string|null);
                first?: (number|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeDeal.$Properties;
        }

        interface ITreeSplits extends tandem.v1.TreeSplits.$Properties {
        }

        class TreeSplits {
            constructor(properties?: tandem.v1.TreeSplits.$Properties);
            $unknowns?: Uint8Array[];
            splits: Uint8Array;
            count: number;
            static create(properties: tandem.v1.TreeSplits.$Shape): tandem.v1.TreeSplits & tandem.v1.TreeSplits.$Shape;
            static create(properties?: tandem.v1.TreeSplits.$Properties): tandem.v1.TreeSplits;
            static encode(message: tandem.v1.TreeSplits.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeSplits & tandem.v1.TreeSplits.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeSplits {
            interface $Properties {
                splits?: (Uint8Array|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeSplits.$Properties;
        }

        interface ITreeBits extends tandem.v1.TreeBits.$Properties {
        }

        class TreeBits {
            constructor(properties?: tandem.v1.TreeBits.$Properties);
            $unknowns?: Uint8Array[];
            bits: Uint8Array;
            rows: number;
            count: number;
            static create(properties: tandem.v1.TreeBits.$Shape): tandem.v1.TreeBits & tandem.v1.TreeBits.$Shape;
            static create(properties?: tandem.v1.TreeBits.$Properties): tandem.v1.TreeBits;
            static encode(message: tandem.v1.TreeBits.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeBits & tandem.v1.TreeBits.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeBits {
            interface $Properties {
                bits?: (Uint8Array|null);
                rows?: (number|null);
                count?: (number|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeBits.$Properties;
        }

        interface ITreeModel extends tandem.v1.TreeModel.$Properties {
        }

        class TreeModel {
            constructor(properties?: tandem.v1.TreeModel.$Properties);
            $unknowns?: Uint8Array[];
            json: string;
            static create(properties: tandem.v1.TreeModel.$Shape): tandem.v1.TreeModel & tandem.v1.TreeModel.$Shape;
            static create(properties?: tandem.v1.TreeModel.$Properties): tandem.v1.TreeModel;
            static encode(message: tandem.v1.TreeModel.$Properties, writer?: $protobuf.Writer): $protobuf.Writer;
            static decode(reader: ($protobuf.Reader|Uint8Array), length?: number): tandem.v1.TreeModel & tandem.v1.TreeModel.$Shape;
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeModel {
            interface $Properties {
                json?: (string|null);
                $unknowns?: Uint8Array[];
            }
            type $Shape = tandem.v1.TreeModel.$Properties;
        }
    }
}
