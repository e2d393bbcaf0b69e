/**
 * The Feetech STS3215 bus driver for SO-100/SO-101 arms, in layers: the protocol (packets, checksum,
 * streaming parser, control table), the bus (requests with timeouts and retries over a byte
 * transport), the arm driver (a `RobotDriver` with calibration), the transports (Node `serialport`,
 * loaded lazily; Web Serial; in-memory), and an emulated servo bus to try it all without hardware.
 *
 * @example
 * // A real SO-101 in Node (wrap it in SafeDriver for limits, velocity clamping and the watchdog):
 * const arm = new SafeDriver(new FeetechArmDriver({
 *   calibration: parseCalibration(readFileSync('so101.json', 'utf8')),
 *   transport: () => openSerialPortTransport('/dev/ttyACM0'),
 * }));
 * await arm.connect();
 * await arm.sendAction([0, 0, 0, 0, 0, 0.04]); // rad for the five joints, m for the gripper width
 *
 * // No hardware: the same driver against the emulated bus.
 * const [host, device] = createMemoryLink();
 * const emulator = new FeetechEmulator(device);
 * const sim = new FeetechArmDriver({ calibration: nominalSo101Calibration(), transport: () => host });
 * @module
 */
export { BROADCAST_ID, MAX_SERVO_ID, MAX_PARAMS, PACKET_HEADER, Instruction, StatusErrorBit, instructionName, statusErrorNames, checksum, encodeInstruction, encodeStatus, decodePacket, hex, toLittleEndian, fromLittleEndian, type InstructionCode, type StatusErrorName, type Packet } from './protocol.js';
export { PacketParser, type ParsedItem, type PacketParserOptions } from './packet-parser.js';
export { STS3215_REGISTERS, STS3215_MODEL_NUMBER, TICKS_PER_REVOLUTION, BAUD_RATES, registerSpec, registerRange, encodeRegister, decodeRegister, type RegisterSpec, type RegisterName } from './control-table.js';
export { FeetechError, FeetechTimeoutError, FeetechChecksumError, FeetechWrongIdError, FeetechProtocolError, FeetechStatusError, isRetryable } from './errors.js';
export { createMemoryLink, MemoryTransport, DataListeners, type ByteTransport, type MemoryLinkOptions } from './transport.js';
export { FeetechBus, type FeetechBusOptions, type RequestOptions, type BusStats } from './bus.js';
export { SO101_JOINT_NAMES, CALIBRATION_FORMAT, parseCalibration, calibrationToJSON, fromLeRobotCalibration, ticksToPosition, positionToTicks, clampTicks, positionRange, jointUnit, type Calibration, type JointCalibration, type GripperWidthMap, type GripperWidths, type LeRobotImportOptions } from './calibration.js';
export { nominalSo101Calibration, nominalSo101CalibrationJSON } from './so101-calibration.js';
export { FeetechArmDriver, type FeetechArmOptions, type ArmTelemetry } from './arm-driver.js';
export { EmulatedServo, EMULATED_FACTORY_VALUES } from './emulated-servo.js';
export { FeetechEmulator, type FeetechEmulatorOptions, type EmulatorFault, type EmulatorStats } from './emulator.js';
export { openWebSerialTransport, requestWebSerialPort, WebSerialTransport, type WebSerialPortLike, type WebSerialFilter, type WebSerialTransportOptions } from './web-serial-transport.js';
export { openSerialPortTransport, listSerialPorts, SerialPortTransport, type SerialPortInfo, type SerialPortTransportOptions } from './serialport-transport.js';
