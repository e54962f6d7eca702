import { autoModeIsEnabledWhole, autoModeNodesCanJoin, autoModeRunsAlone } from './auto-mode';
import { cacheAuthenticatesOneWay, cachesStayUpdatable, kafkaStorageScalingIsAccepted, cacheUsersCanSignIn, dataStoresUpgradeInPlace, restoredWritersInherit, restoreTestsCanRun, lifecycleExpiresAfterTransitions, lockedBucketsStayUsable, lockedVaultsKeepWhatPlansStore, replicasGrowWithTheWriter, replicasOfUnmanagedPasswords, replicationOfKmsObjectsNamesAKey } from './data';
import { ipRulesSeeViewers, listenerRulesAreAccepted } from './edge';
import { cacheConnectNamesCacheAndUser, databaseUsersExist, kafkaClientsFindTheBrokers, keyGrantsOnlyForAwsResources, keyPolicyPrincipalsExist, onePodIdentityAssociationPerServiceAccount, proxyLogsInAsItsClients } from './identity';
import {
  karpenterControllerCanWork, karpenterDeletesInOrder, karpenterNodesCanJoin, karpenterVolumesUseAUsableKey, oneNodeAutoscaler,
  publicEcrChartsCanBePulled, spotPodsRunOnSpotPools,
} from './karpenter';
import { bindingsGateReadiness, chartsWaitForTheirPods, configMapReferencesExist, nodeGroupsFollowTheControlPlane, weightedTargetsKeepTwoPods } from './kubernetes';
import { dataStoresRestrictEgress, eksSubnetsInSupportedZones, vpcOriginAdmitsCloudFront } from './network';
import { namespacesDenyByDefault, networkPoliciesAreEnforced, podsReachWhatTheyUse } from './network-policies';
import { alarmsFitPutMetricAlarm, alarmTopicsAcceptCloudWatch, metricMathIsValid, metricsArePublished, sparseCountsAreFilled } from './observability';
import { promotionsComeFirst, releaseGatesCanJudgeTheirRelease, releaseGatesReachTheCluster } from './releases';
import { sandboxesAreApart, sandboxNodesAreApart } from './sandbox';
import { nestedStackParametersAreStrings, rolledBackCreateCanBeRetried } from './stacks';
import {
  addonsDoNotInjectIntoRestrictedPods, autoscalerChartImageAndClusterInStep, emptyDirsDoNotBlockScaleDown, livenessApartFromReadiness,
  podIdentityTrustIsConditioned, podsRunAsNumericUsers, policiesFitIam, workloadsWaitForTheirPermissions,
} from './workloads';
import { DeployRule } from '../rule';

/** Every deploy rule, each run over every configuration the tests synthesize. */
export const RULES: DeployRule[] = [
  nestedStackParametersAreStrings,
  rolledBackCreateCanBeRetried,
  onePodIdentityAssociationPerServiceAccount,
  keyPolicyPrincipalsExist,
  keyGrantsOnlyForAwsResources,
  proxyLogsInAsItsClients,
  databaseUsersExist,
  kafkaClientsFindTheBrokers,
  replicasOfUnmanagedPasswords,
  replicasGrowWithTheWriter,
  replicationOfKmsObjectsNamesAKey,
  lifecycleExpiresAfterTransitions,
  lockedVaultsKeepWhatPlansStore,
  lockedBucketsStayUsable,
  cacheAuthenticatesOneWay,
  cachesStayUpdatable,
  kafkaStorageScalingIsAccepted,
  cacheUsersCanSignIn,
  cacheConnectNamesCacheAndUser,
  restoreTestsCanRun,
  restoredWritersInherit,
  dataStoresUpgradeInPlace,
  vpcOriginAdmitsCloudFront,
  ipRulesSeeViewers,
  listenerRulesAreAccepted,
  dataStoresRestrictEgress,
  eksSubnetsInSupportedZones,
  networkPoliciesAreEnforced,
  namespacesDenyByDefault,
  podsReachWhatTheyUse,
  sandboxesAreApart,
  sandboxNodesAreApart,
  releaseGatesCanJudgeTheirRelease,
  promotionsComeFirst,
  releaseGatesReachTheCluster,
  alarmTopicsAcceptCloudWatch,
  metricsArePublished,
  metricMathIsValid,
  alarmsFitPutMetricAlarm,
  sparseCountsAreFilled,
  chartsWaitForTheirPods,
  karpenterNodesCanJoin,
  karpenterControllerCanWork,
  publicEcrChartsCanBePulled,
  oneNodeAutoscaler,
  spotPodsRunOnSpotPools,
  karpenterDeletesInOrder,
  karpenterVolumesUseAUsableKey,
  autoModeIsEnabledWhole,
  autoModeRunsAlone,
  autoModeNodesCanJoin,
  bindingsGateReadiness,
  weightedTargetsKeepTwoPods,
  configMapReferencesExist,
  nodeGroupsFollowTheControlPlane,
  autoscalerChartImageAndClusterInStep,
  emptyDirsDoNotBlockScaleDown,
  podsRunAsNumericUsers,
  livenessApartFromReadiness,
  addonsDoNotInjectIntoRestrictedPods,
  podIdentityTrustIsConditioned,
  workloadsWaitForTheirPermissions,
  policiesFitIam,
];
